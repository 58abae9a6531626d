// Causal grouped-query self-attention: softmax(cap(Q·Kᵀ·scale) + mask)·V per head, every product by sgemm.
// Llama/Qwen2: scale 1/√D, no cap, causal mask. Gemma2: scale query_pre_attn_scalar^−½, cap(s) =
// c·tanh(s/c) applied before the mask, and on sliding layers a window: query i sees keys i−W+1...i.
// Query head h reads key/value head h / (H / KVH). Sequences are right-padded, so the causal mask
// alone keeps real tokens from seeing padding.
import Foundation
import SecuraTensor

public enum Attention {
    /// Shape of one attention call.
    public struct Shape: Sendable {
        public var batch: Int, tokens: Int, heads: Int, kvHeads: Int, headDim: Int
        /// Multiplies Q·Kᵀ (1/√D unless given).
        public var scale: Float
        /// Soft-capping of the scaled scores (Gemma2's attn_logit_softcapping); nil for none.
        public var softcap: Float?
        /// Sliding window W: query i sees keys max(0, i−W+1)...i; nil for plain causal attention.
        public var window: Int?
        public init(batch: Int, tokens: Int, heads: Int, kvHeads: Int, headDim: Int,
                    scale: Float? = nil, softcap: Float? = nil, window: Int? = nil) {
            precondition(kvHeads > 0 && heads % kvHeads == 0, "heads must be a multiple of kv heads")
            precondition(window.map { $0 > 0 } ?? true, "the sliding window must be positive")
            self.batch = batch; self.tokens = tokens; self.heads = heads; self.kvHeads = kvHeads; self.headDim = headDim
            self.scale = scale ?? 1 / Float(headDim).squareRoot()
            self.softcap = softcap
            self.window = window
        }
        /// First key query row i sees.
        @inline(__always) func firstKey(_ i: Int) -> Int { window.map { max(0, i - $0 + 1) } ?? 0 }
        var qStride: Int { heads * headDim }
        var kvStride: Int { kvHeads * headDim }
        var group: Int { heads / kvHeads }
        /// Elements of the saved attention probabilities [B, H, T, T].
        public var probsCount: Int { batch * heads * tokens * tokens }
    }

    /// out[B·T, H·D] = attention(q, k, v); saves probs[B, H, T, T] (zero outside the mask).
    /// - Parameters: q [B·T, H·D], k and v [B·T, KVH·D], all after RoPE.
    public static func forward(out: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
                               q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                               shape s: Shape) {
        let t = s.tokens, d = s.headDim
        // One task per (sequence, head): each writes its own probs block and output columns.
        Parallel.forEachTask(s.batch * s.heads) { task in
            let b = task / s.heads, h = task % s.heads
            let g = h / s.group
            let p = probs + (b * s.heads + h) * t * t
            let qh = q + b * t * s.qStride + h * d
            let kg = k + b * t * s.kvStride + g * d
            let vg = v + b * t * s.kvStride + g * d
            BLAS.sgemm(transB: true, m: t, n: t, k: d, alpha: s.scale,
                       a: qh, lda: s.qStride, b: kg, ldb: s.kvStride, c: p, ldc: t)
            maskedSoftmax(p, shape: s)
            BLAS.sgemm(m: t, n: d, k: t, a: p, lda: t, b: vg, ldb: s.kvStride,
                       c: out + b * t * s.qStride + h * d, ldc: s.qStride)
        }
    }

    /// Row-wise softmax of a [T, T] block of scaled scores over the columns row i sees (first...i),
    /// soft-capped first when the shape has a cap; zeros elsewhere. Runs on the calling thread (one task
    /// of `forward`).
    static func maskedSoftmax(_ p: UnsafeMutablePointer<Float>, shape s: Shape) {
        let t = s.tokens
        for i in 0..<t {
            let row = p + i * t
            let first = s.firstKey(i)
            if let cap = s.softcap { for j in first...i { row[j] = cap * tanhf(row[j] / cap) } }
            var mx = -Float.infinity
            for j in first...i { mx = max(mx, row[j]) }
            var lanes = VectorMath.Vector()
            VectorMath.forEachVector(first..<(i + 1)) { j, count in
                let e = VectorMath.exp(VectorMath.load(row + j, count: count, fill: -.infinity) - mx)
                VectorMath.store(e, row + j, count: count)
                lanes += e
            }
            let inv = 1 / lanes.sum()
            VectorMath.forEachVector(first..<(i + 1)) { j, count in
                VectorMath.store(VectorMath.load(row + j, count: count) * inv, row + j, count: count)
            }
            for j in 0..<first { row[j] = 0 }
            for j in (i + 1)..<t { row[j] = 0 }
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
        dK.update(repeating: 0, count: s.batch * t * s.kvStride)
        dV.update(repeating: 0, count: s.batch * t * s.kvStride)
        // One task per (sequence, key/value head): the heads of a group add into the same dK and dV
        // columns, so they run in order inside their task (the sums' order of a sequential loop).
        Parallel.forEachTask(s.batch * s.kvHeads) { task in
            let b = task / s.kvHeads, g = task % s.kvHeads
            let dP = UnsafeMutablePointer<Float>.allocate(capacity: t * t)
            // With a cap, the raw scores are recomputed for the cap's derivative rather than saved.
            let raw = UnsafeMutablePointer<Float>.allocate(capacity: s.softcap == nil ? 0 : t * t)
            defer { dP.deallocate(); raw.deallocate() }
            let kg = k + b * t * s.kvStride + g * d
            let vg = v + b * t * s.kvStride + g * d
            let dKg = dK + b * t * s.kvStride + g * d
            let dVg = dV + b * t * s.kvStride + g * d
            for h in (g * s.group)..<((g + 1) * s.group) {
                let p = probs + (b * s.heads + h) * t * t
                let qh = q + b * t * s.qStride + h * d
                let dOh = dOut + b * t * s.qStride + h * d
                // dP = dO·Vᵀ ; dV += Pᵀ·dO
                BLAS.sgemm(transB: true, m: t, n: t, k: d, a: dOh, lda: s.qStride, b: vg, ldb: s.kvStride,
                           c: dP, ldc: t)
                BLAS.sgemm(transA: true, m: t, n: d, k: t, a: p, lda: t, b: dOh, ldb: s.qStride,
                           beta: 1, c: dVg, ldc: s.kvStride)
                // dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale (in place in dP), times cap'(raw) with a cap
                if let cap = s.softcap {
                    BLAS.sgemm(transB: true, m: t, n: t, k: d, alpha: s.scale,
                               a: qh, lda: s.qStride, b: kg, ldb: s.kvStride, c: raw, ldc: t)
                    softmaxBackward(dP, probs: p, tokens: t, scale: s.scale, capped: (UnsafePointer(raw), cap))
                } else {
                    softmaxBackward(dP, probs: p, tokens: t, scale: s.scale)
                }
                // dQ = dS·K ; dK += dSᵀ·Q
                BLAS.sgemm(m: t, n: d, k: t, a: dP, lda: t, b: kg, ldb: s.kvStride,
                           c: dQ + b * t * s.qStride + h * d, ldc: s.qStride)
                BLAS.sgemm(transA: true, m: t, n: d, k: t, a: dP, lda: t, b: qh, ldb: s.qStride,
                           beta: 1, c: dKg, ldc: s.kvStride)
            }
        }
    }

    /// Masked entries have P = 0 and so get dS = 0 without a test. `capped` gives the raw scaled scores
    /// and the cap: d cap(x)/dx = 1 − tanh²(x/c). Runs on the calling thread (one task of `backward`).
    static func softmaxBackward(_ dP: UnsafeMutablePointer<Float>, probs p: UnsafePointer<Float>,
                                tokens t: Int, scale: Float,
                                capped: (raw: UnsafePointer<Float>, cap: Float)? = nil) {
        for i in 0..<t {
            let dr = dP + i * t
            let pr = p + i * t
            var dot: Float = 0
            for j in 0...i { dot += dr[j] * pr[j] }
            for j in 0...i { dr[j] = pr[j] * (dr[j] - dot) * scale }
            if let (raw, cap) = capped {
                for j in 0...i {
                    let th = tanhf(raw[i * t + j] / cap)
                    dr[j] *= 1 - th * th
                }
            }
            for j in (i + 1)..<t { dr[j] = 0 }
        }
    }
}
