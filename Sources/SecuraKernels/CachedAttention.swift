// Attention of new query rows over a key/value cache (inference with a KV cache, batch 1).
// Query row i sits at absolute position `past + i` and sees cache rows 0...past+i (the last `window` of
// them on a sliding layer); scores are scaled and soft-capped as in Attention.forward.
import Foundation
import SecuraTensor

extension Attention {
    /// out[n, H·D] for n new queries over `past + n` cached keys/values.
    /// - Parameters:
    ///   - q: [n, H·D] after RoPE.
    ///   - kCache, vCache: [capacity, KVH·D]; rows 0..<past+n are filled (the new rows included).
    ///   - scores: scratch of at least n·(past + n) elements.
    ///   - scale, softcap, window: as in `Attention.Shape` (scale nil = 1/√D).
    public static func forwardCached(out: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>,
                                     q: UnsafePointer<Float>, kCache: UnsafePointer<Float>,
                                     vCache: UnsafePointer<Float>, newRows n: Int, past: Int,
                                     heads: Int, kvHeads: Int, headDim d: Int,
                                     scale: Float? = nil, softcap: Float? = nil, window: Int? = nil) {
        let total = past + n
        let qStride = heads * d, kvStride = kvHeads * d, group = heads / kvHeads
        let scale = scale ?? 1 / Float(d).squareRoot()
        for h in 0..<heads {
            let g = h / group
            BLAS.sgemm(transB: true, m: n, n: total, k: d, alpha: scale, a: q + h * d, lda: qStride,
                       b: kCache + g * d, ldb: kvStride, c: scores, ldc: total)
            for i in 0..<n {
                let row = scores + i * total
                let last = past + i
                let first = window.map { max(0, last - $0 + 1) } ?? 0
                if let cap = softcap { for j in first...last { row[j] = cap * tanhf(row[j] / cap) } }
                var mx = -Float.infinity
                for j in first...last { mx = max(mx, row[j]) }
                var sum: Float = 0
                for j in first...last { let e = expf(row[j] - mx); row[j] = e; sum += e }
                let inv = 1 / sum
                for j in first...last { row[j] *= inv }
                for j in 0..<first { row[j] = 0 }
                for j in (last + 1)..<total { row[j] = 0 }
            }
            BLAS.sgemm(m: n, n: d, k: total, a: scores, lda: total, b: vCache + g * d, ldb: kvStride,
                       c: out + h * d, ldc: qStride)
        }
    }
}
