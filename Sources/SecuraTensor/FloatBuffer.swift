// An owned, 64-byte aligned fp32 buffer: the storage for activations, gradients and optimizer state.
// Compute code works on raw pointers into a few of these, as llm.c does, instead of many small arrays.

/// A fixed-size, zero-initialised, 64-byte aligned block of fp32 values.
public final class FloatBuffer: @unchecked Sendable {
    /// First element. Valid for `count` elements while the buffer is alive.
    public let pointer: UnsafeMutablePointer<Float>
    /// Number of elements.
    public let count: Int

    /// Allocates `count` zeroed elements.
    public init(count: Int) {
        precondition(count >= 0, "FloatBuffer count must be non-negative")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * 4, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
    }

    /// Allocates a buffer holding a copy of `values`.
    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
    }

    deinit {
        UnsafeMutableRawPointer(pointer).deallocate()
    }

    /// Sets every element to zero.
    public func zero() {
        pointer.update(repeating: 0, count: count)
    }

    /// A pointer `offset` elements in.
    public subscript(offset offset: Int) -> UnsafeMutablePointer<Float> {
        pointer + offset
    }

    /// The elements as a buffer pointer.
    public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: pointer, count: count)
    }

    /// A copy of the elements as an array.
    public func toArray() -> [Float] {
        Array(UnsafeBufferPointer(start: pointer, count: count))
    }
}
