// SwiGLU activation of the Llama/Qwen2 MLP: out = silu(gate) ⊙ up, with silu(x) = x·σ(x).
import Foundation
import SecuraTensor

public enum SwiGLU {
    /// out[N·F] = silu(gate) ⊙ up (element-wise over `count` = N·F values).
    public static func forward(out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>,
                               up: UnsafePointer<Float>, count: Int) {
        Parallel.forRanges(count, minChunk: 4096) { range in
            for i in range {
                let g = gate[i]
                out[i] = g / (1 + expf(-g)) * up[i]
            }
        }
    }

    /// dGate = dOut ⊙ up ⊙ silu'(gate), dUp = dOut ⊙ silu(gate) (both overwritten).
    public static func backward(dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>,
                                dOut: UnsafePointer<Float>, gate: UnsafePointer<Float>,
                                up: UnsafePointer<Float>, count: Int) {
        Parallel.forRanges(count, minChunk: 4096) { range in
            for i in range {
                let g = gate[i]
                let sig = 1 / (1 + expf(-g))
                let silu = g * sig
                dUp[i] = dOut[i] * silu
                dGate[i] = dOut[i] * up[i] * (sig * (1 + g * (1 - sig)))
            }
        }
    }
}
