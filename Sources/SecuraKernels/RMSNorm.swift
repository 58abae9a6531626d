// RMSNorm: y = x / sqrt(mean(x²) + eps) · (offset + w). Llama and Qwen2 use offset 0; Gemma2 stores w as a
// deviation from 1 and scales by (1 + w), offset 1 (statistics in fp32 for both).
import Foundation
import SecuraTensor

public enum RMSNorm {
    /// out[N, C] = input · rstd · (weightOffset + weight), saving rstd[N] = 1/sqrt(mean(input²) + eps).
    public static func forward(out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                               input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               rows n: Int, channels c: Int, eps: Float, weightOffset: Float = 0) {
        Parallel.forRanges(n, minChunk: 16) { range in
            for r in range {
                let x = input + r * c
                let y = out + r * c
                var ss: Float = 0
                for i in 0..<c { ss += x[i] * x[i] }
                let s = 1 / (ss / Float(c) + eps).squareRoot()
                rstd[r] = s
                for i in 0..<c { y[i] = (weightOffset + weight[i]) * (x[i] * s) }
            }
        }
    }

    /// Backward of `forward` (the same `weightOffset`; dWeight does not depend on it).
    /// - Parameters:
    ///   - dInput: [N, C]; overwritten, or added to when `accumulate`.
    ///   - dWeight: [C], accumulated (+=); nil to skip.
    public static func backward(dInput: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>?,
                                dOut: UnsafePointer<Float>, input: UnsafePointer<Float>,
                                rstd: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                rows n: Int, channels c: Int, accumulate: Bool = false, weightOffset: Float = 0) {
        // With x̂ = x·s and g = dOut ⊙ (offset + w): dx = s · (g − x̂ · mean(g ⊙ x̂)).
        Parallel.forRanges(n, minChunk: 16) { range in
            for r in range {
                let x = input + r * c
                let dy = dOut + r * c
                let dx = dInput + r * c
                let s = rstd[r]
                var dot: Float = 0
                for i in 0..<c { dot += dy[i] * (weightOffset + weight[i]) * x[i] * s }
                let m = dot / Float(c)
                for i in 0..<c {
                    let v = s * (dy[i] * (weightOffset + weight[i]) - x[i] * s * m)
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
