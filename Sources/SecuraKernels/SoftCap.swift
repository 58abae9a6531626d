// Gemma2's logit soft-capping: y = cap · tanh(x / cap), which bounds |y| below cap while keeping small
// values nearly unchanged. Used on the final logits here; attention applies the same formula inside
// Attention.forward, to the scores before the mask.
import Foundation
import SecuraTensor

public enum SoftCap {
    /// values[i] = cap · tanh(values[i] / cap), in place over `count` values.
    public static func forward(_ values: UnsafeMutablePointer<Float>, count: Int, cap: Float) {
        Parallel.forRanges(count, minChunk: 4096) { range in
            for i in range { values[i] = cap * tanhf(values[i] / cap) }
        }
    }

    /// grad[i] *= 1 − (capped[i] / cap)², in place: the derivative of `forward` written through its output.
    /// - Parameter capped: the values `forward` produced.
    public static func backward(_ grad: UnsafeMutablePointer<Float>, capped: UnsafePointer<Float>, count: Int, cap: Float) {
        Parallel.forRanges(count, minChunk: 4096) { range in
            for i in range {
                let t = capped[i] / cap
                grad[i] *= 1 - t * t
            }
        }
    }
}
