// Causal grouped-query self-attention: softmax(Q·Kᵀ/√D + causal mask)·V per head, every product by sgemm.
// Query head h reads key/value head h / (H / KVH). Sequences are right-padded, so the causal mask
// alone keeps real tokens from seeing padding.
import Foundation
import SecuraTensor

public enum Attention {
    /// Shape of one attention call.
    public struct Shape: Sendable {
        public var batch: Int, tokens: Int, heads: Int, kvHeads: Int, headDim: Int
        public init(batch: Int, tokens: Int, heads: Int, kvHeads: Int, headDim: Int) {
            precondition(kvHeads > 0 && heads % kvHeads == 0, "heads must be a multiple of kv heads")
            self.batch = batch; self.tokens = tokens; self.heads = heads; self.kvHeads = kvHeads; self.headDim = headDim
        }
        var qStride: Int { heads * headDim }
        var kvStride: Int { kvHeads * headDim }
        var group: Int { heads / kvHeads }
        /// Elements of the saved attention probabilities [B, H, T, T].
        public var probsCount: Int { batch * heads * tokens * tokens }
    }

    /// out[B·T, H·D] = attention(q, k, v); saves probs[B, H, T, T] (zero above the diagonal).
    /// - Parameters: q [B·T, H·D], k and v [B·T, KVH·D], all after RoPE.
    public static func forward(out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                               q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                               shape s: Shape) {
        let t = s.tokens, d = s.headDim
        let scale = 1 / Float(d).squareRoot()
        for b in 0..<s.batch {
            for h in 0..<s.heads {
                let g = h / s.group
                let p = probs + (b * s.heads + h) * t * t
                let qh = q + b * t * s.qStride + h * d
                let kg = k + b * t * s.kvStride + g * d
                let vg = v + b * t * s.kvStride + g * d
                BLAS.sgemm(transB: true, m: t, n: t, k: d, alpha: scale,
                           a: qh, lda: s.qStride, b: kg, ldb: s.kvStride, c: p, ldc: t)
                causalSoftmax(p, tokens: t)
                BLAS.sgemm(m: t, n: d, k: t, a: p, lda: t, b: vg, ldb: s.kvStride,
                           c: out + b * t * s.qStride + h * d, ldc: s.qStride)
            }
        }
    }

    /// Row-wise softmax over columns 0...i of row i of a [T, T] block; zeros above the diagonal.
    static func causalSoftmax(_ p: UnsafeMutablePointer<Float>, tokens t: Int) {
        Parallel.forRanges(t, minChunk: 32) { range in
            for i in range {
                let row = p + i * t
                var mx = -Float.infinity
                for j in 0...i { mx = max(mx, row[j]) }
                var sum: Float = 0
                for j in 0...i {
                    let e = expf(row[j] - mx)
                    row[j] = e
                    sum += e
                }
                let inv = 1 / sum
                for j in 0...i { row[j] *= inv }
                for j in (i + 1)..<t { row[j] = 0 }
            }
        }
    }

    /// Backward of `forward`. dQ, dK and dV are overwritten.
    /// - Parameters: dOut [B·T, H·D]; probs as saved by `forward`; q, k, v as in `forward`.
    public static func backward(dQ: UnsafeMutablePointer<Float>, dK: UnsafeMutablePointer<Float>,
                                dV: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                                probs: UnsafePointer<Float>,
                                q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                                shape s: Shape) {
        let t = s.tokens, d = s.headDim
        let scale = 1 / Float(d).squareRoot()
        dK.update(repeating: 0, count: s.batch * t * s.kvStride)
        dV.update(repeating: 0, count: s.batch * t * s.kvStride)
        let dP = UnsafeMutablePointer<Float>.allocate(capacity: t * t)
        defer { dP.deallocate() }
        for b in 0..<s.batch {
            for h in 0..<s.heads {
                let g = h / s.group
                let p = probs + (b * s.heads + h) * t * t
                let qh = q + b * t * s.qStride + h * d
                let kg = k + b * t * s.kvStride + g * d
                let vg = v + b * t * s.kvStride + g * d
                let dOh = dOut + b * t * s.qStride + h * d
                // dP = dO·Vᵀ ; dV += Pᵀ·dO
                BLAS.sgemm(transB: true, m: t, n: t, k: d, a: dOh, lda: s.qStride, b: vg, ldb: s.kvStride,
                           c: dP, ldc: t)
                BLAS.sgemm(transA: true, m: t, n: d, k: t, a: p, lda: t, b: dOh, ldb: s.qStride,
                           beta: 1, c: dV + b * t * s.kvStride + g * d, ldc: s.kvStride)
                // dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale (in place in dP)
                softmaxBackward(dP, probs: p, tokens: t, scale: scale)
                // dQ = dS·K ; dK += dSᵀ·Q
                BLAS.sgemm(m: t, n: d, k: t, a: dP, lda: t, b: kg, ldb: s.kvStride,
                           c: dQ + b * t * s.qStride + h * d, ldc: s.qStride)
                BLAS.sgemm(transA: true, m: t, n: d, k: t, a: dP, lda: t, b: qh, ldb: s.qStride,
                           beta: 1, c: dK + b * t * s.kvStride + g * d, ldc: s.kvStride)
            }
        }
    }

    static func softmaxBackward(_ dP: UnsafeMutablePointer<Float>, probs p: UnsafePointer<Float>,
                                tokens t: Int, scale: Float) {
        Parallel.forRanges(t, minChunk: 32) { range in
            for i in range {
                let dr = dP + i * t
                let pr = p + i * t
                var dot: Float = 0
                for j in 0...i { dot += dr[j] * pr[j] }
                for j in 0...i { dr[j] = pr[j] * (dr[j] - dot) * scale }
                for j in (i + 1)..<t { dr[j] = 0 }
            }
        }
    }
}
