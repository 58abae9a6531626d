// A read-only view of a stored tensor (usually inside a memory-mapped model file), in its storage dtype.

/// A named, shaped, typed view of bytes owned elsewhere (a mapped file or a retained buffer).
///
/// The view retains `owner` (the mapped file or buffer the bytes live in), so a view stays valid
/// as long as it is held. Shapes are row-major, outermost first (as safetensors and PyTorch
/// store them): a linear weight is `[out, in]`.
public struct WeightView: @unchecked Sendable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    public let data: UnsafeRawPointer
    /// Keeps the storage of `data` alive; nil when the caller guarantees its lifetime.
    public let owner: AnyObject?

    public init(name: String, dtype: DType, shape: [Int], data: UnsafeRawPointer, owner: AnyObject? = nil) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.data = data
        self.owner = owner
    }

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Number of bytes.
    public var byteCount: Int { count * dtype.byteSize }

    /// Widens elements `[start, start + count)` (flat, row-major) into `destination`.
    public func widen(start: Int, count: Int, into destination: UnsafeMutablePointer<Float>) {
        DTypeConversion.widen(data + start * dtype.byteSize, dtype: dtype, count: count, into: destination)
    }

    /// Widens the whole tensor into a new fp32 array.
    public func toFloatArray() -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            widen(start: 0, count: count, into: buffer.baseAddress!)
            initialized = count
        }
    }

    /// A pointer to the fp32 elements when the storage is already fp32, else nil.
    public var floatPointer: UnsafePointer<Float>? {
        dtype == .f32 ? data.assumingMemoryBound(to: Float.self) : nil
    }
}
