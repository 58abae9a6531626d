// CABR's A_init = U[:r,:]·diag(S)·V[:m,:]ᵀ (paper eq. 3) from an SVD of the original W, optionally keeping
// only the top-k singular triplets; or directly W[:r, :m], which the full-SVD product equals exactly.
import SecuraDistributed
import SecuraTensor

public enum CABRInitializer {
    /// A_init [r, m] for weight w [H, D].
    /// - Parameters:
    ///   - solver: the SVD implementation (LAPACK in one process, ScaLAPACK over all ranks).
    ///   - svdRank: keep the top k triplets only (nil: all min(H, D)).
    public static func initialA(weight w: WeightView, rank r: Int, innerRank m: Int, mode: CABRInit,
                                svdRank: Int?, solver: SVDSolver) throws -> [Float] {
        let h = w.shape[0], d = w.shape[1]
        precondition(r <= h && m <= d, "CABR r and m must be clamped to the weight's shape")
        switch mode {
        case .slice:
            var a = [Float](repeating: 0, count: r * m)
            a.withUnsafeMutableBufferPointer { out in
                for i in 0..<r { w.widen(start: i * d, count: m, into: out.baseAddress! + i * m) }
            }
            return a
        case .svd:
            let result = try solver.svd(rows: h, columns: d, parts: SVDParts(uRows: r, vtColumns: m)) { row, cols, into in
                w.widen(start: row * d + cols.lowerBound, count: cols.count, into: into)
            }
            let k = min(result.rank, svdRank ?? result.rank)
            // A = (U[:r, :k]·diag(S[:k]))·Vᵀ[:k, :m], one sgemm.
            let kk = result.rank
            var us = [Float](repeating: 0, count: r * k)
            for i in 0..<r { for t in 0..<k { us[i * k + t] = result.u[i * kk + t] * result.singularValues[t] } }
            var a = [Float](repeating: 0, count: r * m)
            BLAS.sgemm(m: r, n: m, k: k, a: us, lda: k, b: result.vt, ldb: m, c: &a, ldc: m)
            return a
        }
    }
}
