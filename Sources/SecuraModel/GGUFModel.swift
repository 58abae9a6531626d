// A GGUF model file as a WeightSource: tensors addressed by Hugging Face names with Hugging Face
// shapes ([out, in]), quantised tensors dequantised once to owned fp32 buffers, F32/F16/BF16 served
// from the mapping. For Llama, llama.cpp's converter stores q/k rows permuted for interleaved RoPE;
// the views here undo that, so the decoder's rotate_half RoPE applies unchanged. Qwen2 and Gemma2 are not
// permuted. Gemma2's converter stores every norm weight as 1 + w (llama.cpp's norm multiplies by the
// weight itself); the views here subtract the 1 again, so the tensors are Hugging Face's and the decoder's
// (1 + w) norm applies unchanged. In fp32, 1 + (fl(1 + w) − 1) is exactly fl(1 + w): no rounding is added.
import Foundation
import SecuraIO
import SecuraTensor

/// A Llama, Qwen2 or Gemma2 model in a GGUF file.
///
/// Views are made on first request and cached (a quantised tensor is dequantised exactly once); the
/// cache and the file stay alive with this object, and every view also retains its storage. The raw
/// metadata (tokenizer vocabulary, merges, chat template) is in `file`.
public final class GGUFModel: WeightSource, @unchecked Sendable {
    /// The parsed file: metadata accessors (`file.string(_:)`, `file.stringArray(_:)`, ...) and tensor infos.
    public let file: GGUFFile
    public let architecture: Architecture
    /// The configuration, with Hugging Face key names.
    public let config: ModelConfig
    /// Hugging Face name → GGUF name, for every tensor that has a Hugging Face name.
    public let ggufNames: [String: String]

    private let lock = NSLock()
    private var cache: [String: WeightView] = [:]

    public var path: String { file.path }
    public var sourceDescription: String { file.path }

    /// Opens and validates the file at `path` and reads its configuration.
    /// - Throws: `IOError` / `GGUFError` (the file), `ModelError` (missing keys, unsupported architecture).
    public convenience init(path: String) throws {
        try self.init(file: GGUFFile(path: path))
    }

    /// Reads the configuration of an opened GGUF file.
    /// - Throws: `ModelError` (missing keys, unsupported architecture).
    public init(file: GGUFFile) throws {
        self.file = file
        architecture = try Self.architecture(of: file)
        config = try Self.makeConfig(file, architecture: architecture)
        var names: [String: String] = [:]
        for t in file.tensors {
            if let hf = GGUFTensorNames.huggingFace(t.name, architecture: architecture) { names[hf] = t.name }
        }
        ggufNames = names
    }

    /// The file's tensors for `inspect`: Hugging Face name (GGUF name when there is none), ggml type
    /// name, and row-major shape.
    public var tensors: [(name: String, dtype: String, shape: [Int])] {
        file.tensors.map { (name: GGUFTensorNames.huggingFace($0.name, architecture: architecture) ?? $0.name,
                            dtype: $0.type.name, shape: $0.shape) }
    }

    /// True for Hugging Face names of tensors in the file (GGUF names without one are accepted too).
    public func contains(_ name: String) -> Bool {
        ggufNames[name] != nil || (file.contains(name) && GGUFTensorNames.huggingFace(name, architecture: architecture) == nil)
    }

    /// Tensor `name` (a Hugging Face name) with its Hugging Face shape: F32/F16/BF16 in their dtype,
    /// quantised types as fp32. Llama q/k weights and biases come back in Hugging Face row order.
    ///
    /// - Throws: `ModelError.missingTensor`, `GGUFError.unsupportedTensorType` for types that cannot be
    ///   dequantised, `ModelError.headSplit` when a q/k tensor's rows do not split into heads.
    public func view(_ name: String) throws -> WeightView {
        lock.lock()
        defer { lock.unlock() }
        if let cached = cache[name] { return cached }
        guard let ggufName = ggufNames[name] ?? (contains(name) ? name : nil), let info = file.tensor(ggufName) else {
            throw ModelError.missingTensor(name: name, source: path)
        }
        let view: WeightView
        if let heads = permutedHeads(ggufName) {
            view = try unpermuted(info, as: name, heads: heads)
        } else if architecture == .gemma2 && name.hasSuffix("norm.weight") {
            let values = try file.view(ggufName).toFloatArray().map { $0 - 1 }
            let buffer = FloatBuffer(values)
            view = WeightView(name: name, dtype: .f32, shape: info.shape, data: UnsafeRawPointer(buffer.pointer), owner: buffer)
        } else if info.type.plainDType != nil {
            let stored = try file.view(ggufName)
            view = WeightView(name: name, dtype: stored.dtype, shape: stored.shape, data: stored.data, owner: stored.owner)
        } else {
            let buffer = try dequantized(info)
            view = WeightView(name: name, dtype: .f32, shape: info.shape, data: UnsafeRawPointer(buffer.pointer), owner: buffer)
        }
        cache[name] = view
        return view
    }

    /// Makes every view now (dequantising all quantised tensors), instead of on first use.
    public func loadAll() throws {
        for name in ggufNames.keys.sorted() { _ = try view(name) }
    }

    /// The head count whose RoPE permutation GGUF tensor `name` carries, or nil when it is not permuted.
    func permutedHeads(_ name: String) -> Int? {
        guard architecture == .llama else { return nil }
        let parts = name.split(separator: ".")
        guard parts.count == 4, parts[0] == "blk" else { return nil }
        switch parts[2] {
        case "attn_q": return config.num_attention_heads
        case "attn_k": return config.num_key_value_heads ?? config.num_attention_heads
        default: return nil
        }
    }

    /// Copies tensor `info`'s values (`source`, in `dtype`) to `destination` in Hugging Face row order.
    /// - Throws: `ModelError.headSplit` unless its rows (elements of a bias) split into `heads` heads
    ///   of an even size.
    func unpermute(_ info: GGUFTensorInfo, heads: Int, from source: UnsafeRawPointer, dtype: DType,
                   into destination: UnsafeMutableRawPointer) throws {
        let units = info.dimensions.count == 1 ? info.elementCount : info.rowCount
        guard info.dimensions.count <= 2, heads > 0, units > 0, units % heads == 0, (units / heads) % 2 == 0 else {
            throw ModelError.headSplit(path: path, tensor: info.name, rows: units, heads: heads)
        }
        Self.unpermute(source, into: destination, units: units, unitBytes: info.elementCount / units * dtype.byteSize,
                       heads: heads)
    }

    func isCached(_ name: String) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return cache[name] != nil
    }

    func setCached(_ name: String, _ view: WeightView) {
        lock.lock()
        defer { lock.unlock() }
        cache[name] = view
    }

    private func dequantized(_ info: GGUFTensorInfo) throws -> FloatBuffer {
        let buffer = FloatBuffer(count: info.elementCount)
        try file.dequantize(info.name, into: buffer.pointer)
        return buffer
    }

    /// Undoes the converter's permutation: within each head of D rows, GGUF row 2i + j holds Hugging
    /// Face row j·D/2 + i (j ∈ {0, 1}, i < D/2). A 2-D weight permutes rows; a 1-D bias, elements.
    private func unpermuted(_ info: GGUFTensorInfo, as name: String, heads: Int) throws -> WeightView {
        // Source: the stored bytes for plain types, an fp32 dequantisation otherwise.
        let dtype: DType
        let source: UnsafeRawPointer
        var keepAlive: AnyObject? = nil
        if let plain = info.type.plainDType {
            dtype = plain
            source = try file.rawBytes(info.name).baseAddress!
        } else {
            let buffer = try dequantized(info)
            dtype = .f32
            source = UnsafeRawPointer(buffer.pointer)
            keepAlive = buffer
        }
        let out = GGUFOwnedBytes(count: info.elementCount * dtype.byteSize)
        try withExtendedLifetime(keepAlive) {
            try unpermute(info, heads: heads, from: source, dtype: dtype, into: out.pointer)
        }
        return WeightView(name: name, dtype: dtype, shape: info.shape, data: UnsafeRawPointer(out.pointer), owner: out)
    }

    /// Copies `units` rows (or elements) of `unitBytes` each from GGUF order to Hugging Face order:
    /// destination unit h·D + j·D/2 + i comes from source unit h·D + 2i + j, D = units / heads.
    /// - Precondition: `units` is `heads` × an even number.
    static func unpermute(_ source: UnsafeRawPointer, into destination: UnsafeMutableRawPointer, units: Int,
                          unitBytes: Int, heads: Int) {
        precondition(heads > 0 && units % heads == 0 && (units / heads) % 2 == 0, "\(units) units are not \(heads) even heads")
        let d = units / heads, half = d / 2
        for r in 0..<units {
            let (h, w) = r.quotientAndRemainder(dividingBy: d)
            let (j, i) = w.quotientAndRemainder(dividingBy: half)
            (destination + r * unitBytes).copyMemory(from: source + (h * d + 2 * i + j) * unitBytes, byteCount: unitBytes)
        }
    }
}
