// S-MagNorm (SECURA, eq. 5–9 / Algorithm 1) as docs/DESIGN.md §1.7 resolves it: the merge damps the CHANGE
//   ΔW = C·A·B·R,  M_mag = |(W + ΔW) ⊘ (W + ε)|,  mx = max(M_mag) over the whole matrix,
//   M_res = 2 − σ((M_mag / (mx + ε) − 0.5)·Scale),  W ← W + ΔW ⊘ M_res.
// Written for row shards: each shard computes its ΔW rows and local maximum, the maxima of all shards
// (and all matrices) are combined by one MAX reduction, then each shard applies its rows.
import Foundation
import SecuraTensor

/// How merged changes are damped.
public enum SMagNormMode: String, CaseIterable, Sendable, Codable {
    /// Damp the change at every merge (the default; docs/DESIGN.md §1.7).
    case merge
    /// The authors' released code: normalise layer outputs instead (no damping at merges).
    case output
    /// Merge plainly: W += ΔW.
    case off
}

public enum SMagNorm {
    /// ΔW rows [row0, row0 + rows) = C[row0..., :] · P, with P = A·B·R [r, D] computed once per matrix.
    /// - Parameters: c is C [H, r]; delta receives [rows, D].
    public static func deltaRows(delta: UnsafeMutablePointer<Float>, c: UnsafePointer<Float>, product p: UnsafePointer<Float>,
                                 row0: Int, rows: Int, rank r: Int, columns d: Int) {
        BLAS.sgemm(m: rows, n: d, k: r, a: c + row0 * r, lda: r, b: p, ldb: d, c: delta, ldc: d)
    }

    /// max |(W + ΔW) / (W + ε)| over `count` elements (NaN-free inputs; 0 for an empty shard). Chunks run on
    /// `Parallel.threads` workers; a maximum does not depend on their order, so neither does the result.
    public static func localMaximum(weight w: UnsafePointer<Float>, delta: UnsafePointer<Float>, count: Int,
                                    eps: Float) -> Float {
        let chunks = min(count / elementChunk + 1, 64)
        var maxima = [Float](repeating: 0, count: chunks)
        maxima.withUnsafeMutableBufferPointer { out in
            let slots = out.baseAddress!
            Parallel.forRanges(chunks, minChunk: 1) { range in
                for c in range {
                    var mx: Float = 0
                    for i in chunkBounds(c, of: chunks, count: count) {
                        let m = abs((w[i] + delta[i]) / (w[i] + eps))
                        mx = m > mx ? m : mx
                    }
                    slots[c] = mx
                }
            }
        }
        return maxima.reduce(0) { $1 > $0 ? $1 : $0 }
    }

    /// Elements per chunk of the parallel element-wise loops (a few per worker keeps them balanced).
    static let elementChunk = 1_024

    @inline(__always)
    static func chunkBounds(_ c: Int, of chunks: Int, count: Int) -> Range<Int> {
        (c * count / chunks)..<((c + 1) * count / chunks)
    }

    /// W += ΔW ⊘ (2 − σ((M_mag/(mx + ε) − 0.5)·scale)) over `count` elements, `mx` the global maximum
    /// (element by element, so the chunks' workers do not change the result).
    public static func apply(weight w: UnsafeMutablePointer<Float>, delta: UnsafePointer<Float>, count: Int,
                             globalMaximum mx: Float, eps: Float, scale: Float) {
        let inv = 1 / (mx + eps)
        let chunks = min(count / elementChunk + 1, 64)
        Parallel.forRanges(chunks, minChunk: 1) { range in
            for c in range {
                VectorMath.forEachVector(chunkBounds(c, of: chunks, count: count)) { i, lanes in
                    let wv = VectorMath.load(w + i, count: lanes), dv = VectorMath.load(delta + i, count: lanes)
                    let m = VectorMath.abs((wv + dv) / (wv + eps))
                    let z = (m * inv - 0.5) * scale
                    let res = 2 - 1 / (1 + VectorMath.exp(-z))
                    VectorMath.store(wv + dv / res, w + i, count: lanes)
                }
            }
        }
    }

    /// Rounds every element to the nearest bfloat16 value in place (`--merge-precision bf16`).
    public static func roundToBF16(_ w: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count {
            w[i] = Float(bitPattern: UInt32(DTypeConversion.floatToBF16(w[i])) << 16)
        }
    }
}
