// Token embedding lookup: out[n] = table[token[n]] · scale (Gemma2 scales by √C; Llama and Qwen2 by 1).
import SecuraTensor

public enum Embedding {
    /// out[N, C] = table[tokens[n], :] · scale.
    /// - Parameter table: [V, C] in any storage dtype. Token ids must be in 0..<V (checked by callers).
    public static func forward(out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>,
                               table: WeightView, rows n: Int, channels c: Int, scale: Float = 1) {
        for r in 0..<n {
            table.widen(start: Int(tokens[r]) * c, count: c, into: out + r * c)
            if scale != 1 { for i in 0..<c { out[r * c + i] *= scale } }
        }
    }

    /// dTable[token[n], :] += scale · dOut[n, :] (accumulates; repeated tokens add up).
    public static func backward(dTable: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                                tokens: UnsafePointer<Int32>, rows n: Int, channels c: Int, scale: Float = 1) {
        for r in 0..<n {
            BLAS.axpy(n: c, alpha: scale, x: dOut + r * c, y: dTable + Int(tokens[r]) * c)
        }
    }
}
