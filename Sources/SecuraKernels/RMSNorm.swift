// RMSNorm: y = x / sqrt(mean(x²) + eps) · w, as Llama and Qwen2 define it (statistics in fp32).
import Foundation
import SecuraTensor

public enum RMSNorm {
    /// out[N, C] = input · rstd · weight, saving rstd[N] = 1/sqrt(mean(input²) + eps) for backward.
    public static func forward(out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                               input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               rows n: Int, channels c: Int, eps: Float) {
        Parallel.forRanges(n, minChunk: 16) { range in
            for r in range {
                let x = input + r * c
                let y = out + r * c
                var ss: Float = 0
                for i in 0..<c { ss += x[i] * x[i] }
                let s = 1 / (ss / Float(c) + eps).squareRoot()
                rstd[r] = s
                for i in 0..<c { y[i] = weight[i] * (x[i] * s) }
            }
        }
    }

    /// Backward of `forward`.
    /// - Parameters:
    ///   - dInput: [N, C]; overwritten, or added to when `accumulate`.
    ///   - dWeight: [C], accumulated (+=); nil to skip.
    public static func backward(dInput: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>?,
                                dOut: UnsafePointer<Float>, input: UnsafePointer<Float>,
                                rstd: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                rows n: Int, channels c: Int, accumulate: Bool = false) {
        // With x̂ = x·s and g = dOut ⊙ w: dx = s · (g − x̂ · mean(g ⊙ x̂)).
        Parallel.forRanges(n, minChunk: 16) { range in
            for r in range {
                let x = input + r * c
                let dy = dOut + r * c
                let dx = dInput + r * c
                let s = rstd[r]
                var dot: Float = 0
                for i in 0..<c { dot += dy[i] * weight[i] * x[i] * s }
                let m = dot / Float(c)
                for i in 0..<c {
                    let v = s * (dy[i] * weight[i] - x[i] * s * m)
                    dx[i] = accumulate ? dx[i] + v : v
                }
            }
        }
        if let dWeight {
            for r in 0..<n {
                let x = input + r * c
                let dy = dOut + r * c
                let s = rstd[r]
                for i in 0..<c { dWeight[i] += dy[i] * x[i] * s }
            }
        }
    }
}
