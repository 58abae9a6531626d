// Keeps the fp32 buffers a test hands to kernels alive until the pool is dropped, so that
// `pool(values)` can be written inline where a pointer is needed.
import SecuraTensor

/// Owns buffers created for pointer arguments. Call `keepAlive()` last (e.g. in a `defer`).
public final class BufferPool {
    private var buffers: [FloatBuffer] = []
    public init() {}

    /// A pointer to a new buffer holding `values`, valid while the pool lives.
    public func callAsFunction(_ values: [Float]) -> UnsafeMutablePointer<Float> {
        let b = FloatBuffer(values)
        buffers.append(b)
        return b.pointer
    }

    /// Ends the pool's useful life; referencing it here keeps it alive until this call.
    public func keepAlive() { withExtendedLifetime(buffers) {} }
}
