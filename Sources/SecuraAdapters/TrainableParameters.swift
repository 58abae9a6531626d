// Every trainable tensor of a run in ONE flat fp32 buffer, its gradients in another (llm.c style):
// zeroing is one fill, the optimizer one loop, and the distributed gradient all-reduce one call.
import SecuraTensor

/// Trainable values and their gradients, laid out by one ParameterLayout.
public final class TrainableParameters: @unchecked Sendable {
    public let layout: ParameterLayout
    public let values: ParameterBuffer
    public let gradients: ParameterBuffer

    public init(layout: ParameterLayout) {
        self.layout = layout
        values = ParameterBuffer(layout: layout)
        gradients = ParameterBuffer(layout: layout)
    }

    private var accumulatorStorage: UnsafeMutableBufferPointer<Double>?

    /// A Double accumulator of count + 2 elements (gradients, loss sum, token count), allocated on first
    /// use. The trainer sums each micro-batch's gradient into it, so the global sum does not depend on how
    /// the micro-batches are dealt to ranks (up to Double rounding, far below fp32's).
    public func accumulator() -> UnsafeMutableBufferPointer<Double> {
        if let a = accumulatorStorage { return a }
        let a = UnsafeMutableBufferPointer<Double>.allocate(capacity: count + 2)
        a.initialize(repeating: 0)
        accumulatorStorage = a
        return a
    }

    deinit { accumulatorStorage?.deallocate() }

    /// Number of trainable scalars.
    public var count: Int { layout.count }

    /// Pointers to tensor `name`'s values and gradient.
    /// - Precondition: the layout has `name` (adapters register before binding).
    public func tensor(_ name: String) -> (value: UnsafeMutablePointer<Float>, gradient: UnsafeMutablePointer<Float>) {
        guard let v = values.pointer(name), let g = gradients.pointer(name) else {
            preconditionFailure("trainable tensor \(name) was not registered")
        }
        return (v, g)
    }
}

/// A reusable scratch buffer that grows to the largest size asked of it.
public final class Scratch {
    private var buffer = FloatBuffer(count: 0)
    public init() {}

    /// A pointer to at least `count` elements (contents unspecified).
    public func pointer(_ count: Int) -> UnsafeMutablePointer<Float> {
        if buffer.count < count { buffer = FloatBuffer(count: count) }
        return buffer.pointer
    }
}
