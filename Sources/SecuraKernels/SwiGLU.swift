// SwiGLU activation of the Llama/Qwen2 MLP: out = silu(gate) ⊙ up, with silu(x) = x·σ(x).
import Foundation
import SecuraTensor

public enum SwiGLU {
    /// out[N·F] = silu(gate) ⊙ up (element-wise over `count` = N·F values).
    public static func forward(out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>,
                               up: UnsafePointer<Float>, count: Int) {
        Parallel.forRanges(count, minChunk: 4096) { range in
            VectorMath.forEachVector(range) { i, lanes in
                let g = VectorMath.load(gate + i, count: lanes)
                let y = g / (1 + VectorMath.exp(-g)) * VectorMath.load(up + i, count: lanes)
                VectorMath.store(y, out + i, count: lanes)
            }
        }
    }

    /// dGate = dOut ⊙ up ⊙ silu'(gate), dUp = dOut ⊙ silu(gate) (both overwritten).
    public static func backward(dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>,
                                dOut: UnsafePointer<Float>, gate: UnsafePointer<Float>,
                                up: UnsafePointer<Float>, count: Int) {
        Parallel.forRanges(count, minChunk: 4096) { range in
            VectorMath.forEachVector(range) { i, lanes in
                let g = VectorMath.load(gate + i, count: lanes), d = VectorMath.load(dOut + i, count: lanes)
                let sig = 1 / (1 + VectorMath.exp(-g))
                VectorMath.store(d * (g * sig), dUp + i, count: lanes)
                VectorMath.store(d * VectorMath.load(up + i, count: lanes) * (sig * (1 + g * (1 - sig))), dGate + i, count: lanes)
            }
        }
    }
}
