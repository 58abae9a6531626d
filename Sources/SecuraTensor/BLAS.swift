// The only path to matrix products: thin wrappers over OpenBLAS's cblas_sgemm (row-major),
// and control of the BLAS thread pool.
import CBLAS

/// Row-major matrix products through OpenBLAS.
public enum BLAS {
    /// C[m×n] = alpha · op(A)·op(B) + beta · C, all row-major.
    ///
    /// op(A) is m×k (A is k×m when `transA`), op(B) is k×n (B is n×k when `transB`).
    /// `lda`, `ldb`, `ldc` are row strides in elements.
    @inline(__always)
    public static func sgemm(transA: Bool = false, transB: Bool = false,
                             m: Int, n: Int, k: Int,
                             alpha: Float = 1,
                             a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             beta: Float = 0,
                             c: UnsafeMutablePointer<Float>, ldc: Int) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            // BLAS leaves C untouched for k = 0 only when beta = 1; scale explicitly.
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] } }
            return
        }
        cblas_sgemm(CblasRowMajor,
                    transA ? CblasTrans : CblasNoTrans,
                    transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha,
                    a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y += alpha · x (n elements).
    @inline(__always)
    public static func axpy(n: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        if n == 0 { return }
        cblas_saxpy(Int32(n), alpha, x, 1, y, 1)
    }

    /// Sets the number of threads OpenBLAS uses for each call, clamped to 1...`cores` (the processors
    /// OpenBLAS sees): more threads than cores only contend, and a count from an unchecked number (a
    /// flag of 2³¹) must not trap converting to C's int. Returns the count set.
    @discardableResult
    public static func setThreads(_ n: Int) -> Int {
        let count = min(max(1, n), cores)
        openblas_set_num_threads(Int32(count))
        return count
    }

    /// The processors OpenBLAS sees (at least 1).
    public static var cores: Int { max(1, Int(openblas_get_num_procs())) }

    /// The number of threads OpenBLAS currently uses.
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// OpenBLAS's build description (version, kernel, threading).
    public static var configuration: String {
        guard let c = openblas_get_config() else { return "unknown" }
        return String(cString: c)
    }
}
