// Where a model's tensors come from: a safetensors folder, a GGUF file, or memory (tests, benchmarks).
import SecuraTensor

/// A named collection of stored tensors, addressed by Hugging Face parameter names.
public protocol WeightSource: AnyObject {
    /// A short description used in error messages (usually the path).
    var sourceDescription: String { get }
    /// True when a tensor of that name exists.
    func contains(_ name: String) -> Bool
    /// The tensor's view. Throws a clear error when it is missing or unreadable.
    func view(_ name: String) throws -> WeightView
}

/// Tensors held in memory as fp32 (random benchmark models, tests).
public final class InMemoryWeights: WeightSource {
    public let sourceDescription: String
    private var storage: [String: FloatBuffer] = [:]
    private var shapes: [String: [Int]] = [:]

    public init(description: String = "in-memory weights") {
        sourceDescription = description
    }

    /// Stores `values` under `name` with `shape` (row-major).
    public func set(_ name: String, shape: [Int], values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "shape \(shape) does not hold \(values.count) values")
        storage[name] = FloatBuffer(values)
        shapes[name] = shape
    }

    /// Stores a buffer (taken over, not copied) under `name`.
    public func set(_ name: String, shape: [Int], buffer: FloatBuffer) {
        precondition(shape.reduce(1, *) == buffer.count, "shape \(shape) does not hold \(buffer.count) values")
        storage[name] = buffer
        shapes[name] = shape
    }

    public var names: [String] { storage.keys.sorted() }

    /// The fp32 storage of tensor `name` (mutable: tests perturb weights through it).
    public func buffer(_ name: String) -> FloatBuffer? { storage[name] }

    public func contains(_ name: String) -> Bool { storage[name] != nil }

    public func view(_ name: String) throws -> WeightView {
        guard let buffer = storage[name], let shape = shapes[name] else {
            throw ModelError.missingTensor(name: name, source: sourceDescription)
        }
        return WeightView(name: name, dtype: .f32, shape: shape, data: UnsafeRawPointer(buffer.pointer), owner: buffer)
    }
}

/// A source that serves some tensors from elsewhere (fp32 master copies of merged weights, trainable
/// weights of full fine-tuning) and every other tensor from a base source.
public final class OverlayWeights: WeightSource {
    public let base: WeightSource
    public private(set) var overrides: [String: WeightView]

    public init(base: WeightSource, overrides: [String: WeightView] = [:]) {
        self.base = base
        self.overrides = overrides
    }

    public var sourceDescription: String { base.sourceDescription }

    public func set(_ name: String, _ view: WeightView) { overrides[name] = view }

    public func contains(_ name: String) -> Bool { overrides[name] != nil || base.contains(name) }

    public func view(_ name: String) throws -> WeightView {
        if let v = overrides[name] { return v }
        return try base.view(name)
    }
}
