// Every trainable tensor of a run in ONE flat fp32 buffer, its gradients in another (llm.c style):
// zeroing is one fill, the optimizer one loop, and the distributed gradient all-reduce one call.
import SecuraTensor

/// Trainable values and their gradients, laid out by one ParameterLayout.
public final class TrainableParameters: @unchecked Sendable {
    public let layout: ParameterLayout
    public let values: ParameterBuffer
    public let gradients: ParameterBuffer

    /// The gradient buffer has two trailing elements after the tensors (`totals`): the trainer puts the
    /// loss sum and the scored-token count there, so one all-reduce sums gradients and totals together.
    public init(layout: ParameterLayout) {
        self.layout = layout
        values = ParameterBuffer(layout: layout)
        gradients = ParameterBuffer(layout: layout, extra: 2)
    }

    /// The gradient buffer including the two trailing totals (loss sum, token count).
    public var gradientsWithTotals: UnsafeMutableBufferPointer<Float> { gradients.storage.buffer }

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
