// Writes a shape-faithful Hugging Face model folder: config.json, generation_config.json, optional
// tokenizer files, the weights in `model-0000k-of-0000n.safetensors` shards with
// `model.safetensors.index.json` (or one `model.safetensors` when everything fits one shard, as
// transformers' save_pretrained does), values from ShapedWeights. Streaming: SafeTensorsWriter asks for
// each tensor range by range, so one chunk of one tensor is in memory at a time, whatever the model's
// size. Every file is written atomically and the index last, so an interrupted run never leaves a
// folder that loads.
import Foundation
import SecuraIO
import SecuraTensor

/// What to write.
public struct ShapedModelOptions: Sendable {
    public var shape: ModelShape
    /// The output folder (created if missing).
    public var output: String
    /// Storage type of every tensor; config.json's torch_dtype follows it.
    public var dtype: DType = .bf16
    public var seed: UInt64 = 0
    /// Largest shard in bytes (decimal, as transformers' max_shard_size="5GB" = 5·10⁹).
    public var shardBytes: Int = 5_000_000_000
    /// Generator threads (the bytes do not depend on it).
    public var threads: Int = 1
    /// Write into an existing non-empty folder (stale weight files in it are removed first).
    public var force = false
    /// Files copied into the folder unchanged, e.g. tokenizer.json and tokenizer_config.json.
    public var extraFiles: [String] = []
    /// Elements generated per chunk (the bytes do not depend on it).
    public var chunkElements = SafeTensorsWriter.chunkElements

    public init(shape: ModelShape, output: String) {
        self.shape = shape
        self.output = output
    }
}

/// The files and tensors a folder will hold, computed before anything is written.
public struct ShapedModelPlan: Sendable {
    /// A tensor to be written: its name, storage type and shape.
    public struct Tensor: Sendable, Equatable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        /// Element count (the product of the shape).
        public var count: Int { shape.reduce(1, *) }
        /// Data size in bytes.
        public var byteCount: Int { count * dtype.byteSize }
    }

    public struct Shard: Sendable {
        public let file: String
        /// Tensors in transformers' state-dict order.
        public let tensors: [Tensor]
        public var byteCount: Int { tensors.reduce(0) { $0 + $1.byteCount } }
    }

    public let shape: ModelShape
    public let config: DecoderConfig
    public let shards: [Shard]
    /// Tensor data bytes over all shards (the index's total_size).
    public let totalBytes: Int
    public var parameterCount: Int { config.parameterCount }

    /// Assigns `shape`'s tensors to shards as transformers does: in state-dict order, a new shard when
    /// the next tensor would push the current one past `shardBytes`.
    ///
    /// - Throws: `ModelError` for a config secura-dist cannot run; `ShapedModelError.nonPositiveShardSize` for
    ///   a non-positive shard size.
    public init(shape: ModelShape, dtype: DType, shardBytes: Int) throws {
        guard shardBytes > 0 else { throw ShapedModelError.nonPositiveShardSize(bytes: shardBytes) }
        var shape = shape
        shape.config["torch_dtype"] = .string(Self.torchName(dtype))
        self.shape = shape
        config = try shape.decoderConfig()
        var groups: [[Tensor]] = [[]]
        var current = 0
        for entry in config.parameterLayout.entries {
            let spec = Tensor(name: entry.name, dtype: dtype, shape: entry.shape)
            if !groups[groups.count - 1].isEmpty && current + spec.byteCount > shardBytes {
                groups.append([])
                current = 0
            }
            groups[groups.count - 1].append(spec)
            current += spec.byteCount
        }
        let n = groups.count
        shards = groups.enumerated().map { k, tensors in
            Shard(file: n == 1 ? SafeTensorsModel.singleFileName : Self.shardName(k + 1, of: n), tensors: tensors)
        }
        totalBytes = shards.reduce(0) { $0 + $1.byteCount }
    }

    /// "model-00002-of-00004.safetensors".
    public static func shardName(_ k: Int, of n: Int) -> String {
        func five(_ v: Int) -> String { String(repeating: "0", count: max(0, 5 - String(v).count)) + String(v) }
        return "model-\(five(k))-of-\(five(n)).safetensors"
    }

    /// The index file's text: {"metadata": {"total_size": ...}, "weight_map": {...}}.
    public var indexText: String {
        var map: [String: ConfigJSON] = [:]
        for shard in shards { for t in shard.tensors { map[t.name] = .string(shard.file) } }
        return ConfigJSON.object(["metadata": .object(["total_size": .int(totalBytes)]),
                                  "weight_map": .object(map)]).text + "\n"
    }

    static func torchName(_ dtype: DType) -> String {
        switch dtype {
        case .bf16: return "bfloat16"
        case .f16: return "float16"
        case .f32: return "float32"
        }
    }
}

/// Progress of a write, reported after every chunk.
public struct ShapedModelProgress: Sendable {
    /// 1-based shard number and the shard count.
    public let shard: Int, shards: Int
    public let tensor: String
    public let bytesWritten: Int, totalBytes: Int
    /// Seconds since the first shard was started.
    public let seconds: Double
}

/// Writes shape-faithful model folders.
public enum ShapedModelWriter {
    /// Space kept free beyond the data (headers, config files, the file system's own needs).
    static let spaceMargin = 64 << 20

    /// Writes the folder `options` describe and returns its plan.
    ///
    /// - Throws: `ShapedModelError` (output folder not empty without `force`, not a folder, not enough
    ///   free space, unreadable extra file), `ModelError` for an invalid shape, `IOError.cannotWrite`.
    @discardableResult
    public static func write(_ options: ShapedModelOptions,
                             progress: (ShapedModelProgress) -> Void = { _ in }) throws -> ShapedModelPlan {
        let plan = try ShapedModelPlan(shape: options.shape, dtype: options.dtype, shardBytes: options.shardBytes)
        let folder = options.output
        let created = try prepareFolder(folder, force: options.force)
        do {
            try requireSpace(plan.totalBytes + spaceMargin, in: folder)
        } catch {
            if created { try? FileManager.default.removeItem(atPath: folder) }
            throw error
        }

        try writeText(plan.shape.configText, to: folder + "/config.json")
        try writeText(plan.shape.generationConfigText, to: folder + "/generation_config.json")
        for source in options.extraFiles {
            let name = URL(fileURLWithPath: source).lastPathComponent
            guard let data = FileManager.default.contents(atPath: source) else {
                throw ShapedModelError.cannotWrite(path: folder + "/" + name, reason: "cannot read \(source)")
            }
            try writeBytes([UInt8](data), to: folder + "/" + name)
        }

        let start = DispatchTime.now().uptimeNanoseconds
        var written = 0
        try withoutActuallyEscaping(progress) { progress in
            for (k, shard) in plan.shards.enumerated() {
                func report(_ tensor: String, _ bytes: Int) {
                    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                    progress(ShapedModelProgress(shard: k + 1, shards: plan.shards.count, tensor: tensor,
                                                 bytesWritten: bytes, totalBytes: plan.totalBytes, seconds: seconds))
                }
                var writer = SafeTensorsWriter(path: folder + "/" + shard.file, metadata: ["format": "pt"])
                writer.chunkElements = options.chunkElements
                for tensor in shard.tensors {
                    let key = ShapedWeights.key(seed: options.seed, name: tensor.name)
                    let kind = ShapedWeights.kind(of: tensor.name, normOffset: plan.config.normWeightOffset)
                    try writer.add(tensor.name, shape: tensor.shape, as: tensor.dtype) { range, values in
                        // The chunks before this one are on disk (a tensor's last one: see afterEachTensor).
                        if range.lowerBound > 0 { report(tensor.name, written + range.lowerBound * tensor.dtype.byteSize) }
                        ShapedWeights.fill(values, key: key, kind: kind, start: range.lowerBound, threads: options.threads)
                    }
                }
                let sizes = Dictionary(uniqueKeysWithValues: shard.tensors.map { ($0.name, $0.byteCount) })
                writer.afterEachTensor = { name in
                    written += sizes[name] ?? 0
                    report(name, written)
                }
                try writer.write()
            }
        }
        if plan.shards.count > 1 {
            try writeText(plan.indexText, to: folder + "/" + SafeTensorsModel.indexFileName)
        }
        return plan
    }

    /// Creates `folder`, or checks it is empty (or, with `force`, removes stale weight files from it).
    /// - Returns: true when the folder was created here.
    @discardableResult
    static func prepareFolder(_ folder: String, force: Bool) throws -> Bool {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: folder, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw ShapedModelError.notAFolder(path: folder) }
            let contents = (try? fm.contentsOfDirectory(atPath: folder)) ?? []
            guard contents.isEmpty || force else { throw ShapedModelError.outputNotEmpty(path: folder) }
            // A stale model.safetensors would shadow the new shards' index, a stale shard would sit
            // unused beside them: remove every weight file and the leftovers of interrupted writes.
            for name in contents where name.hasSuffix(".safetensors") || name == SafeTensorsModel.indexFileName
                || (name.hasPrefix(".") && name.contains(".tmp-")) {
                do { try fm.removeItem(atPath: folder + "/" + name) } catch {
                    throw ShapedModelError.cannotWrite(path: folder + "/" + name, reason: "cannot remove the stale file")
                }
            }
            return false
        } else {
            do { try fm.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw ShapedModelError.cannotWrite(path: folder, reason: "cannot create the folder (\(error.localizedDescription))")
            }
            return true
        }
    }

    /// Throws unless the file system holding `folder` has `needed` bytes free.
    ///
    /// - Throws: `ShapedModelError.insufficientSpace` with both numbers, or `.cannotWrite` when the free
    ///   space cannot be read.
    public static func requireSpace(_ needed: Int, in folder: String) throws {
        let available = try freeBytes(folder)
        guard needed <= available else {
            throw ShapedModelError.insufficientSpace(path: folder, needed: needed, available: available)
        }
    }

    /// Free bytes for an unprivileged user on the file system holding `folder`.
    static func freeBytes(_ folder: String) throws -> Int {
        guard let attributes = try? FileManager.default.attributesOfFileSystem(forPath: folder),
              let free = (attributes[.systemFreeSize] as? NSNumber)?.int64Value else {
            throw ShapedModelError.cannotWrite(path: folder, reason: "cannot read the file system's free space")
        }
        return Int(free)
    }

    static func writeText(_ text: String, to path: String) throws {
        try writeBytes(Array(text.utf8), to: path)
    }

    static func writeBytes(_ bytes: [UInt8], to path: String) throws {
        let file = try AtomicFileWriter(path: path)
        try file.write(bytes)
        try file.commit()
    }
}
