// Token embedding lookup: out[n] = table[token[n]].
import SecuraTensor

public enum Embedding {
    /// out[N, C] = table[tokens[n], :].
    /// - Parameter table: [V, C] in any storage dtype. Token ids must be in 0..<V (checked by callers).
    public static func forward(out: UnsafeMutablePointer<Float>, tokens: UnsafePointer<Int32>,
                               table: WeightView, rows n: Int, channels c: Int) {
        for r in 0..<n {
            table.widen(start: Int(tokens[r]) * c, count: c, into: out + r * c)
        }
    }

    /// dTable[token[n], :] += dOut[n, :] (accumulates; repeated tokens add up).
    public static func backward(dTable: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                                tokens: UnsafePointer<Int32>, rows n: Int, channels c: Int) {
        for r in 0..<n {
            BLAS.axpy(n: c, alpha: 1, x: dOut + r * c, y: dTable + Int(tokens[r]) * c)
        }
    }
}
