// Writing a merged model's weights without ever holding the model: tensors are taken in the order of
// the input's files (a Hugging Face shard after another; a GGUF file is one source), packed into output
// shards of at most `shardSize` bytes, and each output shard is written (atomically) before the next is
// begun. Untouched tensors are byte copies of the mapped input (chunked conversions when the output
// dtype differs); a merged weight is computed one tensor at a time. Each input tensor's mapped pages are
// released from the resident set once it is written. More than one shard gives Hugging Face's
// `model-0000k-of-0000n.safetensors` + `model.safetensors.index.json`; one shard, `model.safetensors`.
import Foundation
import SecuraAdapters
import SecuraIO
import SecuraModel
import SecuraTensor

/// How far a merged export is, reported after each output shard.
public struct ExportProgress: Sendable {
    /// Output shards written so far, and in all.
    public let shard: Int, shards: Int
    /// The file just written (its name inside the output folder).
    public let file: String
    public let bytesWritten: Int, totalBytes: Int
    public let seconds: Double

    /// Seconds left at the rate so far.
    public var eta: Double {
        bytesWritten > 0 ? seconds * Double(totalBytes - bytesWritten) / Double(bytesWritten) : 0
    }
}

extension MergedExport {
    /// Hugging Face's default maximum shard size ("5GB").
    public static let defaultShardSize = 5_000_000_000

    struct PlannedTensor {
        let name: String
        let shape: [Int]
        let bytes: Int
        /// Index of the input file that holds it (0 for a single-file or non-file source).
        let source: Int
    }

    /// `model.safetensors` for one shard, else `model-0000k-of-0000n.safetensors` (k from 1).
    static func shardName(_ k: Int, of n: Int) -> String {
        n == 1 ? SafeTensorsModel.singleFileName : String(format: "model-%05d-of-%05d.safetensors", k + 1, n)
    }

    /// The tensors in input-file order, cut into shards of at most `shardSize` bytes (a tensor larger
    /// than that gets a shard of its own).
    static func plan(_ names: [String], base: WeightSource, dtype: DType, shardSize: Int) throws -> [[PlannedTensor]] {
        let files = base as? SafeTensorsModel
        var tensors: [PlannedTensor] = []
        for name in names {
            let shape = try files?.entry(name)?.shape ?? base.view(name).shape
            tensors.append(PlannedTensor(name: name, shape: shape, bytes: shape.reduce(1, *) * dtype.byteSize,
                                         source: files?.fileIndex(of: name) ?? 0))
        }
        // Stable: within an input file, the order the caller gave.
        tensors = tensors.enumerated().sorted { ($0.element.source, $0.offset) < ($1.element.source, $1.offset) }.map(\.element)
        var shards: [[PlannedTensor]] = []
        var current: [PlannedTensor] = [], size = 0
        for t in tensors {
            if !current.isEmpty, size + t.bytes > shardSize {
                shards.append(current)
                (current, size) = ([], 0)
            }
            current.append(t)
            size += t.bytes
        }
        if !current.isEmpty { shards.append(current) }
        return shards
    }

    /// Writes the weight files of the merged model into `folder` and returns their names; removes
    /// weight files of an earlier export that this one does not replace (a stale `model.safetensors`
    /// would shadow a new index).
    /// - Parameter current: the current fp32 weight of a merge target when it is not in
    ///   `adapters.masters` (read from a checkpoint's master files), or nil.
    static func writeWeights(_ adapters: AdapterSet, base: WeightSource, tensorNames: [String], to folder: URL,
                             dtype: DType, shardSize: Int, current: @escaping (LinearSite) throws -> [Float]?,
                             progress: (ExportProgress) -> Void) throws -> [String] {
        precondition(shardSize > 0, "shard size must be positive")
        let shards = try plan(tensorNames, base: base, dtype: dtype, shardSize: shardSize)
        let sites = Dictionary(uniqueKeysWithValues: adapters.plans.map { ($0.site.weightName, $0.site) })
        let biases = try biasSites(adapters, tensorNames: tensorNames)
        let files = base as? SafeTensorsModel
        let total = shards.joined().reduce(0) { $0 + $1.bytes }
        let start = DispatchTime.now().uptimeNanoseconds
        var written = 0
        var names: [String] = []
        var weightMap: [String: String] = [:]
        for (k, shard) in shards.enumerated() {
            let name = shardName(k, of: shards.count)
            var writer = SafeTensorsWriter(path: folder.appendingPathComponent(name).path,
                                           metadata: ["format": "pt", "producer": "secura-dist export"])
            // Each input tensor's pages leave the resident set once copied (a re-read faults them back in).
            if let files { writer.afterEachTensor = { files.releaseResidentPages(of: $0) } }
            for t in shard {
                if let site = sites[t.name] {
                    try writer.add(t.name, shape: t.shape, as: dtype) {
                        let original = try base.view(t.name)
                        return try mergedWeight(adapters, site: site, original: original, current: try current(site))
                    }
                } else if let site = biases[t.name] {
                    try writer.add(t.name, shape: t.shape, as: dtype) {
                        mergedBias(adapters, site: site, original: try base.view(t.name))
                    }
                } else {
                    try writer.add(try base.view(t.name), converting: dtype)
                }
                weightMap[t.name] = name
            }
            try writer.write()
            names.append(name)
            written += writer.dataByteCount
            progress(ExportProgress(shard: k + 1, shards: shards.count, file: name, bytesWritten: written, totalBytes: total,
                                    seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
        }
        let fm = FileManager.default
        let indexPath = folder.appendingPathComponent(SafeTensorsModel.indexFileName).path
        if shards.count > 1 {
            try writeIndex(weightMap, totalSize: total, to: indexPath)
        }
        // Weight files of an earlier export that were not replaced.
        let kept = Set(names + (shards.count > 1 ? [SafeTensorsModel.indexFileName] : []))
        for old in (try? fm.contentsOfDirectory(atPath: folder.path)) ?? [] where !kept.contains(old) {
            let isShard = old.hasPrefix("model-") && old.contains("-of-") && old.hasSuffix(".safetensors")
            if isShard || old == SafeTensorsModel.singleFileName || old == SafeTensorsModel.indexFileName {
                try fm.removeItem(at: folder.appendingPathComponent(old))
            }
        }
        return names
    }

    /// `model.safetensors.index.json` as transformers writes it: total_size (data bytes) and the
    /// sorted weight_map, written atomically.
    static func writeIndex(_ weightMap: [String: String], totalSize: Int, to path: String) throws {
        struct Index: Encodable {
            struct Metadata: Encodable { let total_size: Int }
            let metadata: Metadata
            let weight_map: [String: String]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(Index(metadata: .init(total_size: totalSize), weight_map: weightMap))
        let output = try AtomicFileWriter(path: path)
        try data.withUnsafeBytes { try output.write($0) }
        try output.commit()
    }
}
