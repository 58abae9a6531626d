// The single-process SVD: LAPACK dgesvd (OpenBLAS) on the whole matrix, with the same fill closure and
// result type as the ScaLAPACK solver. It is the reference the doctor compares against, and the path a
// plain (non-MPI) process takes.
import CBLAS
import SecuraDistributed

/// Thin SVD of a whole matrix in this process, in double precision, returned as fp32.
public struct LAPACKSVD: SVDSolver {
    public init() {}

    public func svd(rows: Int, columns: Int, parts: SVDParts, fill: MatrixRowFill) throws -> SVDResult {
        let (uRows, vtColumns) = try parts.resolve(rows: rows, columns: columns)
        let k = min(rows, columns)
        // Column-major copy of A (LAPACK's layout), read one row at a time.
        var a = [Double](repeating: 0, count: rows * columns)
        var rowBuffer = [Float](repeating: 0, count: columns)
        for row in 0..<rows {
            do {
                try rowBuffer.withUnsafeMutableBufferPointer { try fill(row, 0..<columns, $0.baseAddress!) }
            } catch {
                throw SVDError.fillFailed(rank: 0, message: "\(error)")
            }
            for column in 0..<columns {
                let value = rowBuffer[column]
                guard value.isFinite else { throw SVDError.nonFiniteInput(rank: 0, row: row, column: column) }
                a[column * rows + row] = Double(value)
            }
        }

        var m = Int32(rows), n = Int32(columns), lda = Int32(rows), ldu = Int32(rows), ldvt = Int32(k)
        var s = [Double](repeating: 0, count: k)
        var u = [Double](repeating: 0, count: rows * k)
        var vt = [Double](repeating: 0, count: k * columns)
        var info: Int32 = 0
        // 'S': the k leading singular vectors; 'N': none, when the caller wants no part of U or Vᵀ.
        let jobU = uRows > 0 ? "S" : "N", jobVT = vtColumns > 0 ? "S" : "N"
        func run(_ work: inout [Double], _ lwork: Int32) {
            var lwork = lwork
            dgesvd_(jobU, jobVT, &m, &n, &a, &lda, &s, &u, &ldu, &vt, &ldvt, &work, &lwork, &info)
        }
        var query = [Double](repeating: 0, count: 1)
        run(&query, -1)
        guard info == 0 else {
            throw SVDError.lapack(routine: "dgesvd (workspace query)", info: info,
                                  meaning: lapackSVDMeaning(info: info, rank: k))
        }
        let needed = max(Int(query[0].rounded(.up)), 1)
        guard needed <= Int(Int32.max) else {
            throw SVDError.invalidShape("dgesvd needs \(needed) workspace entries, beyond 32-bit LAPACK")
        }
        var work = [Double](repeating: 0, count: needed)
        run(&work, Int32(needed))
        guard info == 0 else {
            throw SVDError.lapack(routine: "dgesvd", info: info, meaning: lapackSVDMeaning(info: info, rank: k))
        }

        // Column-major doubles to the row-major fp32 parts the caller asked for.
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
