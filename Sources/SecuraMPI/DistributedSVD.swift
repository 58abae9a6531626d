// The distributed SVD (ScaLAPACK pdgesvd) used for CABR/SECURA adapter initialisation. All ranks form a
// BLACS process grid over MPI_COMM_WORLD, each fills only its own blocks of the block-cyclic matrix
// through the caller's closure (no scatter from rank 0), pdgesvd runs in double precision, and the
// requested parts of S, U and Vᵀ are assembled on every rank from the same gathered bytes, with S taken
// from rank 0, so every rank returns a bit-identical result.
//
// Block size: square blocks are required (pdgesvd/pdgebrd need MB = NB, the same for U and Vᵀ). The
// default is 64, the usual ScaLAPACK compromise: large enough that the local panel updates run as
// BLAS-3 at good speed, small enough to balance the bidiagonalisation across ranks. For small matrices it
// shrinks so each process row and column still owns about two blocks (e.g. 96×80 on 2 ranks gives 24).
import CScaLAPACK
import Foundation
import SecuraDistributed
import SecuraLinAlg

/// ScaLAPACK SVD over every rank of an `MPICommunicator`.
///
/// With a non-MPI communicator of size 1 (a plain process) it runs `LAPACKSVD` instead, so callers can
/// use it unconditionally; other non-MPI communicators throw `SVDError.unsupported`.
public final class ScaLAPACKSVD: SVDSolver {
    /// The ranks that compute together; `svd` is collective over all of them.
    public let communicator: Communicator
    /// Block size override (nil: `defaultBlockSize`).
    public let blockSize: Int?

    public init(communicator: Communicator, blockSize: Int? = nil) {
        precondition(blockSize.map { $0 >= 1 } ?? true, "block size must be at least 1")
        self.communicator = communicator
        self.blockSize = blockSize
    }

    /// The default square block size for an m × n matrix on `grid` (see the file header).
    public static func defaultBlockSize(rows: Int, columns: Int, grid: ProcessGrid) -> Int {
        let perRow = (rows + grid.rows - 1) / grid.rows
        let perColumn = (columns + grid.columns - 1) / grid.columns
        return max(1, min(64, min(perRow, perColumn) / 2))
    }

    /// The routine `svd` runs: "ScaLAPACK pdgesvd" under MPI, "LAPACK dgesvd" in a plain process.
    public var method: String { communicator is MPICommunicator ? "ScaLAPACK pdgesvd" : "LAPACK dgesvd" }

    /// The grid and block size `svd` uses for an m × n matrix on this communicator.
    public func plan(rows: Int, columns: Int) -> (grid: ProcessGrid, blockSize: Int) {
        let grid = ProcessGrid.nearSquare(ranks: communicator.size, tall: rows > columns)
        return (grid, blockSize ?? ScaLAPACKSVD.defaultBlockSize(rows: rows, columns: columns, grid: grid))
    }

    public func svd(rows: Int, columns: Int, parts: SVDParts, fill: MatrixRowFill) throws -> SVDResult {
        let (uRows, vtColumns) = try parts.resolve(rows: rows, columns: columns)
        guard let mpi = communicator as? MPICommunicator else {
            guard communicator.size == 1 else {
                throw SVDError.unsupported("ScaLAPACK needs the MPI communicator, got \(type(of: communicator)) "
                                           + "with \(communicator.size) ranks")
            }
            return try LAPACKSVD().svd(rows: rows, columns: columns, parts: parts, fill: fill)
        }
        let (grid, nb) = plan(rows: rows, columns: columns)
        // The BLACS and pdgesvd block inside MPI: the watchdog's blocking deadline covers them.
        let blacs = try mpi.withBlockingDeadline("BLACS grid set-up") { try BLACSGrid(communicator: mpi, grid: grid) }
        defer { mpi.withBlockingDeadline("BLACS grid exit") { blacs.exit() } }
        let k = min(rows, columns)
        let a = BlockCyclicLayout(rows: rows, columns: columns, blockSize: nb, grid: grid)
        let u = BlockCyclicLayout(rows: rows, columns: k, blockSize: nb, grid: grid)
        let vt = BlockCyclicLayout(rows: k, columns: columns, blockSize: nb, grid: grid)

        var localA = try fillLocal(a, blacs: blacs, fill: fill)
        var descA = try blacs.descriptor(for: a)
        var descU = try blacs.descriptor(for: u)
        var descVT = try blacs.descriptor(for: vt)
        var s = [Double](repeating: 0, count: k)
        let uShape = u.localShape(rank: mpi.rank), vtShape = vt.localShape(rank: mpi.rank)
        var localU = [Double](repeating: 0, count: max(1, uShape.rows * uShape.columns))
        var localVT = [Double](repeating: 0, count: max(1, vtShape.rows * vtShape.columns))

        // Skip the vectors nobody asked for ('N'): singular values alone are much cheaper.
        let jobU = uRows > 0 ? "V" : "N", jobVT = vtColumns > 0 ? "V" : "N"
        var m32 = Int32(rows), n32 = Int32(columns), one: Int32 = 1, info: Int32 = 0
        func run(_ work: inout [Double], _ lwork: Int32) {
            var lwork = lwork
            mpi.withBlockingDeadline("ScaLAPACK pdgesvd (\(rows)×\(columns))") {
                pdgesvd_(jobU, jobVT, &m32, &n32, &localA, &one, &one, &descA, &s, &localU, &one, &one, &descU,
                         &localVT, &one, &one, &descVT, &work, &lwork, &info, 1, 1)
            }
        }
        var query = [Double](repeating: 0, count: 1)
        run(&query, -1)
        try agree(info == 0 ? nil : .lapack(routine: "pdgesvd (workspace query)", info: info,
                                            meaning: lapackSVDMeaning(info: info, rank: k)))
        // Some ScaLAPACK releases under-report the workspace; a margin costs little.
        let needed = Int(query[0].rounded(.up)) + 2 * nb * nb + 4 * max(rows, columns)
        guard needed <= Int(Int32.max) else {
            throw SVDError.invalidShape("pdgesvd needs \(needed) workspace entries, beyond 32-bit LAPACK")
        }
        var work = [Double](repeating: 0, count: needed)
        run(&work, Int32(needed))
        try agree(info == 0 ? nil : .lapack(routine: "pdgesvd", info: info, meaning: lapackSVDMeaning(info: info, rank: k)))

        // Identical S everywhere: rank 0's values.
        var singular = s.map { Float($0) }
        try communicator.broadcast(&singular, root: 0)
        let uKept = u.leading(rows: uRows, columns: k)
        let vtKept = vt.leading(rows: k, columns: vtColumns)
        let uFull = try communicator.allGatherMatrix(
            localPiece: pack(localU, from: u, keeping: uKept), layout: uKept)
        let vtFull = try communicator.allGatherMatrix(
            localPiece: pack(localVT, from: vt, keeping: vtKept), layout: vtKept)
        return SVDResult(rows: rows, columns: columns, singularValues: singular,
                         uRows: uRows, u: uFull, vtColumns: vtColumns, vt: vtFull)
    }

    // MARK: Steps

    /// This rank's part of A, column-major doubles, read through `fill` one owned block-row run at a time.
    private func fillLocal(_ layout: BlockCyclicLayout, blacs: BLACSGrid, fill: MatrixRowFill) throws -> [Double] {
        let shape = layout.localShape(rank: communicator.rank)
        var local = [Double](repeating: 0, count: max(1, shape.rows * shape.columns))
        let runs = layout.columns.ownedRuns(process: blacs.column)
        var scratch = [Float](repeating: 0, count: layout.columns.blockSize)
        var problem: SVDProblem?
        fillRows: for localRow in 0..<shape.rows {
            let row = layout.rows.globalIndex(local: localRow, process: blacs.row)
            var localColumn = 0
            for run in runs {
                do {
                    try scratch.withUnsafeMutableBufferPointer { try fill(row, run, $0.baseAddress!) }
                } catch {
                    problem = .fill(RankFailure(rank: communicator.rank, error: error))
                    break fillRows
                }
                for j in 0..<run.count {
                    let value = scratch[j]
                    if !value.isFinite {
                        problem = .nonFinite(row: row, column: run.lowerBound + j)
                        break fillRows
                    }
                    local[(localColumn + j) * shape.rows + localRow] = Double(value)
                }
                localColumn += run.count
            }
        }
        try agree(problem)
        return local
    }

    /// The leading `kept` part of a local column-major array, converted to fp32 and packed.
    private func pack(_ local: [Double], from layout: BlockCyclicLayout, keeping kept: BlockCyclicLayout) -> [Float] {
        let full = layout.localShape(rank: communicator.rank)
        let part = kept.localShape(rank: communicator.rank)
        var packed = [Float](repeating: 0, count: part.rows * part.columns)
        for column in 0..<part.columns {
            for row in 0..<part.rows {
                packed[column * part.rows + row] = Float(local[column * full.rows + row])
            }
        }
        return packed
    }

    /// Makes a local failure collective: every rank throws the lowest failing rank's error, or none does.
    private func agree(_ problem: SVDProblem?) throws {
        guard let agreed = try communicator.agree(problem) else { return }
        let failing = agreed.rank
        switch agreed.failure {
        case let .fill(failure):
            throw SVDError.fillFailed(failure)
        case let .nonFinite(row, column):
            throw SVDError.nonFiniteInput(rank: failing, row: row, column: column)
        case let .lapack(routine, info, meaning):
            throw SVDError.lapack(routine: routine, info: info, meaning: "on rank \(failing): " + meaning)
        }
    }
}

/// What a rank reports to the others when its part of the SVD failed (sent as JSON by `agree`).
private enum SVDProblem: Codable {
    case fill(RankFailure)
    case nonFinite(row: Int, column: Int)
    case lapack(routine: String, info: Int32, meaning: String)
}
