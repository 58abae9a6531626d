// AdamW with PyTorch's semantics (torch.optim.AdamW): decoupled weight decay, bias correction,
// one loop over the whole flat parameter buffer.
import Foundation
import SecuraTensor

/// AdamW hyper-parameters (PyTorch defaults except the learning rate, which the schedule sets).
public struct AdamWSettings: Sendable, Equatable, Codable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var eps: Float = 1e-8
    public var weightDecay: Float = 0.01
    public init() {}
}

/// AdamW state over one flat buffer: first and second moments and the step count.
public final class AdamW {
    public let settings: AdamWSettings
    public let m: FloatBuffer
    public let v: FloatBuffer
    /// Optimizer steps taken (PyTorch's `step`, 1 after the first update).
    public var step = 0

    public init(count: Int, settings: AdamWSettings) {
        self.settings = settings
        m = FloatBuffer(count: count)
        v = FloatBuffer(count: count)
    }

    /// One update of `values` from `gradients` (both `count` = m.count elements) at learning rate `lr`.
    public func update(values p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>, lr: Float) {
        step += 1
        let s = settings
        let bc1 = 1 - pow(Double(s.beta1), Double(step))
        let bc2 = 1 - pow(Double(s.beta2), Double(step))
        let stepSize = Float(Double(lr) / bc1)
        let bc2Sqrt = Float(bc2.squareRoot())
        let decay = 1 - lr * s.weightDecay
        let m = self.m.pointer, v = self.v.pointer
        Parallel.forRanges(self.m.count, minChunk: 1 << 14) { range in
            for i in range {
                p[i] *= decay
                m[i] = s.beta1 * m[i] + (1 - s.beta1) * g[i]
                v[i] = s.beta2 * v[i] + (1 - s.beta2) * g[i] * g[i]
                let denom = v[i].squareRoot() / bc2Sqrt + s.eps
                p[i] -= stepSize * m[i] / denom
            }
        }
    }
}
