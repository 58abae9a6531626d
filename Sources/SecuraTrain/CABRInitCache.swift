// `--cabr-init-cache DIR`: CABR's initial A matrices of a model, kept in DIR as one safetensors file per
// (model, settings), so a second run skips the SVDs (minutes at 8B) and reads A in well under a second.
//
// Key. The file is named after a hash of the model's absolute path and the settings that determine A;
// inside, its metadata holds the full key, which must match exactly:
//   - model identity: every weight file of the model (the .gguf file, or the folder's *.safetensors),
//     with its absolute path, size and modification time (ns). Hashing the contents would cost minutes
//     for 16 GB, which defeats the cache; hashing only the headers cannot tell two models of the same
//     architecture apart (same names, shapes and offsets: a base model and its fine-tune, two shaped
//     models of different seeds). A copy of the model elsewhere misses the cache, the safe direction.
//     The key also carries a content sample: an FNV-1a hash of the block W[:r, :m] of every adapted
//     matrix (the block A equals), so a file rewritten in place with the same size and time still misses.
//   - settings: targets, the C/R rule (lowest-norm columns/rows), r (--cur-rank), m (--cabr-m), the SVD
//     rank k, the init mode, and the solver that made A (LAPACK dgesdd and ScaLAPACK agree only to
//     ~1e-7, so a cached A is bit-identical to what this run would compute).
// A missing, unreadable, foreign (other model or settings) or malformed (missing tensor, wrong shape or
// dtype, non-finite value) entry is never used: the run says why, recomputes, and replaces the file. A
// cache never stops a run; failing to write it is a warning.
//
// Under MPI rank 0 alone reads and writes the file; the A values reach the other ranks by broadcast, so
// every rank holds the same bits.
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraErrors
import SecuraIO
import SecuraModel
import SecuraTensor

public enum CABRInitCache {
    /// What determines A, stored in the file's metadata under `metadataKey`.
    public struct Key: Codable, Equatable, Sendable {
        public struct File: Codable, Equatable, Sendable {
            public var path: String
            public var size: Int
            public var mtimeNanoseconds: Int64
        }
        public var format = "secura-dist/cabr-init-cache-1"
        public var model: String
        public var files: [File]
        /// FNV-1a over the W[:r, :m] blocks of the adapted matrices, in site order (hex).
        public var weightSample: String
        public var targets: [String]
        public var selection = "lowest-norm columns and rows"
        public var rank: Int
        public var innerRank: Int
        public var svdRank: Int?
        public var initMode: String
        public var solver: String
    }

    public static let metadataKey = "secura.cabr_init_key"

    /// The key of `settings` on the model at `modelPath` with its adapted matrices `plans`.
    /// - Throws: `IOError.fileNotFound` when the model or a weight file cannot be examined.
    public static func key(modelPath: String, base: WeightSource, plans: [SitePlan], settings: MethodSettings,
                           solver: String) throws -> Key {
        let model = URL(fileURLWithPath: modelPath).standardizedFileURL.path
        var sample = FNV1a()
        for p in CABRInitBatch.sites(plans) {
            let w = try base.view(p.site.weightName)
            var row = [Float](repeating: 0, count: p.innerRank)
            for i in 0..<p.rank {
                row.withUnsafeMutableBufferPointer { w.widen(start: i * w.shape[1], count: p.innerRank, into: $0.baseAddress!) }
                row.withUnsafeBytes { sample.add($0) }
            }
        }
        return Key(model: model, files: try weightFiles(model).map(identity), weightSample: sample.hex,
                   targets: settings.targets.map(\.rawValue), rank: settings.curRank, innerRank: settings.cabrM,
                   svdRank: settings.cabrSVDRank, initMode: settings.cabrInit.rawValue, solver: solver)
    }

    /// `DIR/cabr-init-<hash of model path and settings>.safetensors`.
    public static func path(in folder: String, key: Key) -> String {
        var h = FNV1a()
        var named = key
        named.files = []
        named.weightSample = ""
        h.add(Array(encode(named).utf8))
        return URL(fileURLWithPath: folder).appendingPathComponent("cabr-init-\(h.hex).safetensors").path
    }

    /// The outcome of looking for an entry.
    public enum Lookup {
        case hit([LinearSite: [Float]])
        /// Nothing usable; `reason` says why (missing, unreadable, foreign, malformed).
        case miss(reason: String)
    }

    /// Reads and validates the entry for `key` (no communication).
    public static func read(folder: String, key: Key, plans: [SitePlan]) -> Lookup {
        let file = path(in: folder, key: key)
        guard FileManager.default.fileExists(atPath: file) else { return .miss(reason: "no entry \(file) yet") }
        let st: SafeTensorsFile
        do { st = try SafeTensorsFile(path: file) } catch { return .miss(reason: "\(file) is unreadable (\(error))") }
        guard let text = st.metadata[metadataKey], let stored = try? JSONDecoder().decode(Key.self, from: Data(text.utf8)) else {
            return .miss(reason: "\(file) has no readable '\(metadataKey)' metadata: not a CABR init cache")
        }
        if let difference = differences(stored, key) { return .miss(reason: "\(file) is for \(difference)") }
        let sites = CABRInitBatch.sites(plans)
        guard st.names.count == sites.count else {
            return .miss(reason: "\(file) holds \(st.names.count) tensors, this run adapts \(sites.count) matrices")
        }
        var out: [LinearSite: [Float]] = [:]
        for p in sites {
            let name = CABRDelta.names(p.site).a
            guard let entry = st.entry(name) else { return .miss(reason: "\(file) has no tensor \(name)") }
            guard entry.dtypeName == DType.f32.rawValue, entry.shape == [p.rank, p.innerRank] else {
                return .miss(reason: "\(file): \(name) is \(entry.dtypeName) \(entry.shape), expected F32 [\(p.rank), \(p.innerRank)]")
            }
            guard let values = try? st.floats(name), values.allSatisfy(\.isFinite) else {
                return .miss(reason: "\(file): \(name) holds a NaN or infinity or cannot be read")
            }
            out[p.site] = values
        }
        return .hit(out)
    }

    /// Writes the entry for `key` atomically (creating `folder`).
    /// - Throws: `IOError.cannotWrite` and the writer's errors.
    public static func write(folder: String, key: Key, plans: [SitePlan], values: [LinearSite: [Float]]) throws -> String {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw IOError.cannotWrite(path: folder, reason: "cannot create the cache folder (\(error.localizedDescription))")
        }
        let file = path(in: folder, key: key)
        var writer = SafeTensorsWriter(path: file, metadata: [metadataKey: encode(key)])
        for p in CABRInitBatch.sites(plans) {
            guard let a = values[p.site] else { continue }
            try writer.add(CABRDelta.names(p.site).a, floats: a, shape: [p.rank, p.innerRank])
        }
        try writer.write()
        return file
    }

    /// Collective lookup: rank 0 reads, every rank gets rank 0's outcome and the same A bits.
    public static func read(folder: String, key: Key, plans: [SitePlan], comm: Communicator) throws -> Lookup {
        let local = comm.isRoot ? read(folder: folder, key: key, plans: plans) : .miss(reason: "")
        var flag: [Int32] = [0]
        var reason = ""
        if case .hit = local { flag[0] = 1 }
        if case let .miss(r) = local { reason = r }
        try comm.broadcast(&flag, root: 0)
        guard flag[0] == 1 else {
            var bytes = Array(reason.utf8)
            var count: [Int32] = [Int32(bytes.count)]
            try comm.broadcast(&count, root: 0)
            if !comm.isRoot { bytes = [UInt8](repeating: 0, count: Int(count[0])) }
            if !bytes.isEmpty { try comm.broadcast(&bytes, root: 0) }
            return .miss(reason: String(decoding: bytes, as: UTF8.self))
        }
        var out: [LinearSite: [Float]] = [:]
        if case let .hit(values) = local { out = values }
        for p in CABRInitBatch.sites(plans) {
            var a = out[p.site] ?? [Float](repeating: 0, count: p.rank * p.innerRank)
            try comm.broadcast(&a, root: 0)
            out[p.site] = a
        }
        return .hit(out)
    }

    // MARK: Pieces

    /// The weight files of a model: the file itself, or the folder's `*.safetensors` / `*.gguf`, sorted.
    static func weightFiles(_ model: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory) else {
            throw IOError.fileNotFound(path: model)
        }
        guard isDirectory.boolValue else { return [model] }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: model)) ?? []
        return names.filter { $0.hasSuffix(".safetensors") || $0.hasSuffix(".gguf") }.sorted()
            .map { URL(fileURLWithPath: model).appendingPathComponent($0).path }
    }

    static func identity(_ file: String) throws -> Key.File {
        var s = stat()
        guard stat(file, &s) == 0 else { throw IOError.fileNotFound(path: file) }
        return Key.File(path: file, size: Int(s.st_size),
                        mtimeNanoseconds: Int64(s.st_mtim.tv_sec) * 1_000_000_000 + Int64(s.st_mtim.tv_nsec))
    }

    /// A readable account of how `stored` differs from `wanted`, or nil when they are equal.
    static func differences(_ stored: Key, _ wanted: Key) -> String? {
        guard stored != wanted else { return nil }
        var parts: [String] = []
        if stored.format != wanted.format { parts.append("cache format \(stored.format), this build reads \(wanted.format)") }
        if stored.model != wanted.model { parts.append("model \(stored.model)") }
        if stored.files != wanted.files {
            let changed = Set(stored.files.map(\.path)).symmetricDifference(wanted.files.map(\.path))
            parts.append(changed.isEmpty ? "another state of the model files (size or modification time changed)"
                                         : "other model files (\(changed.sorted().joined(separator: ", ")))")
        }
        if stored.weightSample != wanted.weightSample { parts.append("other weights (the W[:r, :m] sample differs)") }
        func setting(_ name: String, _ a: String, _ b: String) { if a != b { parts.append("\(name) \(a) (this run: \(b))") } }
        setting("targets", stored.targets.joined(separator: ","), wanted.targets.joined(separator: ","))
        setting("C/R selection", stored.selection, wanted.selection)
        setting("\(Setting("the CUR rank", key: "cur_rank"))", "\(stored.rank)", "\(wanted.rank)")
        setting("\(Setting("CABR's m", key: "cabr_m"))", "\(stored.innerRank)", "\(wanted.innerRank)")
        setting("\(Setting("the SVD rank of CABR's init", key: "cabr_svd_rank"))", stored.svdRank.map(String.init) ?? "all",
                wanted.svdRank.map(String.init) ?? "all")
        setting("\(Setting("CABR's init", key: "cabr_init"))", stored.initMode, wanted.initMode)
        setting("solver", stored.solver, wanted.solver)
        return parts.isEmpty ? "other settings" : parts.joined(separator: "; ")
    }

    static func encode(_ key: Key) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(key)) ?? Data(), as: UTF8.self)
    }
}

/// 64-bit FNV-1a (file names and the weight sample; not a security hash).
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    mutating func add(_ bytes: UnsafeRawBufferPointer) {
        for b in bytes { value = (value ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
    }

    mutating func add(_ bytes: [UInt8]) { bytes.withUnsafeBytes { add($0) } }

    var hex: String { String(value, radix: 16).zeroPadded(to: 16) }
}

private extension String {
    func zeroPadded(to n: Int) -> String { String(repeating: "0", count: max(0, n - count)) + self }
}
