// The single-process SVD: LAPACK (OpenBLAS) on the whole matrix, with the same fill closure and result
// type as the ScaLAPACK solver. It is the reference the doctor compares against, the path a plain
// (non-MPI) process takes, and the per-rank solver of the dealt CABR initialisation.
//
// Drivers: dgesvd (QR iteration, the historical default and the doctor's reference), dgesdd (divide and
// conquer: the same bidiagonalisation, but the singular vectors come from BLAS-3 merges instead of
// Givens sweeps, several times faster for the vectors at 4096²) and sgesdd (dgesdd in single
// precision: half the memory traffic in the memory-bound bidiagonalisation, but an fp32 backward error).
//
// It lives in SecuraLinAlg, not SecuraMPI, so single-process code and its tests do not link MPI.
import CBLAS
import SecuraDistributed

/// Thin SVD of a whole matrix in this process, returned as fp32.
public struct LAPACKSVD: SVDSolver {
    /// Which LAPACK routine computes the decomposition.
    public enum Driver: String, CaseIterable, Sendable {
        /// Double-precision QR iteration.
        case dgesvd
        /// Double-precision divide and conquer.
        case dgesdd
        /// Single-precision divide and conquer.
        case sgesdd
    }

    public let driver: Driver

    /// - Parameter driver: default dgesvd, the reference the doctor and older results were made with.
    public init(driver: Driver = .dgesvd) {
        self.driver = driver
    }

    public func svd(rows: Int, columns: Int, parts: SVDParts, fill: MatrixRowFill) throws -> SVDResult {
        let (uRows, vtColumns) = try parts.resolve(rows: rows, columns: columns)
        switch driver {
        case .dgesvd, .dgesdd:
            let a: [Double] = try columnMajor(rows: rows, columns: columns, fill: fill)
            return try run(a, rows: rows, columns: columns, uRows: uRows, vtColumns: vtColumns)
        case .sgesdd:
            let a: [Float] = try columnMajor(rows: rows, columns: columns, fill: fill)
            return try run(a, rows: rows, columns: columns, uRows: uRows, vtColumns: vtColumns)
        }
    }

    /// Column-major copy of the matrix (LAPACK's layout), read one row at a time, finite values only.
    private func columnMajor<T: BinaryFloatingPoint>(rows: Int, columns: Int, fill: MatrixRowFill) throws -> [T] {
        var a = [T](repeating: 0, count: rows * columns)
        var rowBuffer = [Float](repeating: 0, count: columns)
        for row in 0..<rows {
            do {
                try rowBuffer.withUnsafeMutableBufferPointer { try fill(row, 0..<columns, $0.baseAddress!) }
            } catch {
                throw SVDError.fillFailed(RankFailure(rank: 0, error: error))
            }
            for column in 0..<columns {
                let value = rowBuffer[column]
                guard value.isFinite else { throw SVDError.nonFiniteInput(rank: 0, row: row, column: column) }
                a[column * rows + row] = T(value)
            }
        }
        return a
    }

    private func run(_ a: [Double], rows: Int, columns: Int, uRows: Int, vtColumns: Int) throws -> SVDResult {
        var a = a
        let k = min(rows, columns)
        var m = Int32(rows), n = Int32(columns), lda = Int32(rows), ldu = Int32(rows), ldvt = Int32(k)
        var s = [Double](repeating: 0, count: k)
        let vectors = uRows > 0 || vtColumns > 0
        var u = [Double](repeating: 0, count: vectors || driver == .dgesvd ? rows * k : 1)
        var vt = [Double](repeating: 0, count: vectors || driver == .dgesvd ? k * columns : 1)
        var iwork = [Int32](repeating: 0, count: 8 * k)
        var info: Int32 = 0
        let routine = driver.rawValue
        func call(_ work: inout [Double], _ lwork: Int32) {
            var lwork = lwork
            if driver == .dgesvd {
                // 'S': the k leading singular vectors; 'N': none, when the caller wants no part of U or Vᵀ.
                dgesvd_(uRows > 0 ? "S" : "N", vtColumns > 0 ? "S" : "N", &m, &n, &a, &lda, &s, &u, &ldu, &vt, &ldvt,
                        &work, &lwork, &info)
            } else {
                dgesdd_(vectors ? "S" : "N", &m, &n, &a, &lda, &s, &u, &ldu, &vt, &ldvt, &work, &lwork, &iwork, &info)
            }
        }
        var query = [Double](repeating: 0, count: 1)
        call(&query, -1)
        var work = try workspace(query: Double(query[0]), info: info, routine: routine, rank: k, as: Double.self)
        call(&work, Int32(work.count))
        guard info == 0 else { throw SVDError.lapack(routine: routine, info: info, meaning: lapackSVDMeaning(info: info, rank: k)) }
        return result(s: s, u: u, vt: vt, rows: rows, columns: columns, uRows: uRows, vtColumns: vtColumns)
    }

    private func run(_ a: [Float], rows: Int, columns: Int, uRows: Int, vtColumns: Int) throws -> SVDResult {
        var a = a
        let k = min(rows, columns)
        var m = Int32(rows), n = Int32(columns), lda = Int32(rows), ldu = Int32(rows), ldvt = Int32(k)
        var s = [Float](repeating: 0, count: k)
        let vectors = uRows > 0 || vtColumns > 0
        var u = [Float](repeating: 0, count: vectors ? rows * k : 1)
        var vt = [Float](repeating: 0, count: vectors ? k * columns : 1)
        var iwork = [Int32](repeating: 0, count: 8 * k)
        var info: Int32 = 0
        func call(_ work: inout [Float], _ lwork: Int32) {
            var lwork = lwork
            sgesdd_(vectors ? "S" : "N", &m, &n, &a, &lda, &s, &u, &ldu, &vt, &ldvt, &work, &lwork, &iwork, &info)
        }
        var query = [Float](repeating: 0, count: 1)
        call(&query, -1)
        var work = try workspace(query: Double(query[0]), info: info, routine: "sgesdd", rank: k, as: Float.self)
        call(&work, Int32(work.count))
        guard info == 0 else { throw SVDError.lapack(routine: "sgesdd", info: info, meaning: lapackSVDMeaning(info: info, rank: k)) }
        return result(s: s, u: u, vt: vt, rows: rows, columns: columns, uRows: uRows, vtColumns: vtColumns)
    }

    /// The work array a workspace query asked for.
    private func workspace<T: BinaryFloatingPoint>(query: Double, info: Int32, routine: String, rank k: Int,
                                                   as: T.Type) throws -> [T] {
        guard info == 0 else {
            throw SVDError.lapack(routine: routine + " (workspace query)", info: info, meaning: lapackSVDMeaning(info: info, rank: k))
        }
        // An fp32 query result can round the size down; one part in 10⁶ more covers it.
        let needed = max(Int((query * (1 + 1e-6)).rounded(.up)), 1)
        guard needed <= Int(Int32.max) else {
            throw SVDError.invalidShape("\(routine) needs \(needed) workspace entries, beyond 32-bit LAPACK")
        }
        return [T](repeating: 0, count: needed)
    }

    /// Column-major factors to the row-major fp32 parts the caller asked for.
    private func result<T: BinaryFloatingPoint>(s: [T], u: [T], vt: [T], rows: Int, columns: Int,
                                                uRows: Int, vtColumns: Int) -> SVDResult {
        let k = min(rows, columns)
        var uOut = [Float](repeating: 0, count: uRows * k)
        for row in 0..<uRows {
            for column in 0..<k { uOut[row * k + column] = Float(u[column * rows + row]) }
        }
        var vtOut = [Float](repeating: 0, count: k * vtColumns)
        for row in 0..<k {
            for column in 0..<vtColumns { vtOut[row * vtColumns + column] = Float(vt[column * k + row]) }
        }
        return SVDResult(rows: rows, columns: columns, singularValues: s.map { Float($0) },
                         uRows: uRows, u: uOut, vtColumns: vtColumns, vt: vtOut)
    }
}

/// Human-readable meaning of a (p)dgesvd `info` for a matrix with k = min(m, n) (`rank`; −1 if unknown).
public func lapackSVDMeaning(info: Int32, rank k: Int) -> String {
    if info < 0 { return "argument \(-info) had an illegal value" }
    if k >= 0, info == k + 1 { return "singular values differ between processes (heterogeneous grid)" }
    return "the bidiagonal QR iteration did not converge (\(info) superdiagonals left)"
}
