// GeGLU activation of the Gemma2 MLP: out = gelu_tanh(gate) ⊙ up, with transformers' "gelu_pytorch_tanh"
// gelu_tanh(x) = ½·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
import Foundation
import SecuraTensor

public enum GeGLU {
    static let k0: Float = 0.7978845608028654  // √(2/π)
    static let k1: Float = 0.044715

    /// out[N·F] = gelu_tanh(gate) ⊙ up (element-wise over `count` = N·F values).
    public static func forward(out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>,
                               up: UnsafePointer<Float>, count: Int) {
        Parallel.forRanges(count, minChunk: 4096) { range in
            for i in range {
                let g = gate[i]
                let t = tanhf(k0 * (g + k1 * g * g * g))
                out[i] = 0.5 * g * (1 + t) * up[i]
            }
        }
    }

    /// dGate = dOut ⊙ up ⊙ gelu_tanh'(gate), dUp = dOut ⊙ gelu_tanh(gate) (both overwritten).
    public static func backward(dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>,
                                dOut: UnsafePointer<Float>, gate: UnsafePointer<Float>,
                                up: UnsafePointer<Float>, count: Int) {
        Parallel.forRanges(count, minChunk: 4096) { range in
            for i in range {
                let g = gate[i]
                let t = tanhf(k0 * (g + k1 * g * g * g))
                // d/dg ½g(1 + t) = ½(1 + t) + ½g(1 − t²)·k0·(1 + 3·k1·g²)
                let d = 0.5 * (1 + t) + 0.5 * g * (1 - t * t) * k0 * (1 + 3 * k1 * g * g)
                dUp[i] = dOut[i] * 0.5 * g * (1 + t)
                dGate[i] = dOut[i] * up[i] * d
            }
        }
    }
}
