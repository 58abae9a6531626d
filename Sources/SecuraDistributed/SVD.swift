// The SVD seam: the result type and solver protocol that adapter initialisation (CABR / SECURA's
// A_init = U[:r,:]·diag(S)·V[:m,:]ᵀ) codes against, without importing MPI or LAPACK. The implementations:
// a ScaLAPACK one over all ranks (SecuraMPI) and a single-process LAPACK one (SecuraLinAlg).
import SecuraErrors

/// Writes row `row`, columns `columns` of the input matrix (fp32) into `into[0..<columns.count]`.
///
/// Solvers call it only for the pieces the calling rank owns, so it should read straight from the
/// caller's storage (e.g. a memory-mapped weight). It may be called many times and in any order.
public typealias MatrixRowFill = (_ row: Int, _ columns: Range<Int>, _ into: UnsafeMutablePointer<Float>) throws -> Void

/// The thin SVD A = U·diag(S)·Vᵀ of an m × n matrix, k = min(m, n), possibly with U and Vᵀ cut to the
/// parts the caller asked for. All arrays are fp32 and row-major.
public struct SVDResult: Equatable, Sendable {
    /// m, rows of the input.
    public let rows: Int
    /// n, columns of the input.
    public let columns: Int
    /// k = min(m, n) singular values, non-increasing.
    public let singularValues: [Float]
    /// Rows of U kept (the leading ones), ≤ m.
    public let uRows: Int
    /// U[0..<uRows, 0..<k], row-major (uRows × k).
    public let u: [Float]
    /// Columns of Vᵀ kept (the leading ones, i.e. rows of V), ≤ n.
    public let vtColumns: Int
    /// Vᵀ[0..<k, 0..<vtColumns], row-major (k × vtColumns).
    public let vt: [Float]

    public init(rows: Int, columns: Int, singularValues: [Float], uRows: Int, u: [Float],
                vtColumns: Int, vt: [Float]) {
        let k = min(rows, columns)
        precondition(singularValues.count == k && u.count == uRows * k && vt.count == k * vtColumns,
                     "SVD result arrays do not match \(rows)×\(columns)")
        self.rows = rows
        self.columns = columns
        self.singularValues = singularValues
        self.uRows = uRows
        self.u = u
        self.vtColumns = vtColumns
        self.vt = vt
    }

    /// k = min(m, n).
    public var rank: Int { singularValues.count }
}

/// Which parts of U and Vᵀ to return. Cutting them early shrinks what is assembled and broadcast:
/// A_init needs only U's first r rows and Vᵀ's first m columns.
public struct SVDParts: Equatable, Sendable {
    /// Leading rows of U to return; nil means all m.
    public var uRows: Int?
    /// Leading columns of Vᵀ to return; nil means all n.
    public var vtColumns: Int?

    public init(uRows: Int? = nil, vtColumns: Int? = nil) {
        self.uRows = uRows
        self.vtColumns = vtColumns
    }

    /// Full U and Vᵀ.
    public static let all = SVDParts()
}

/// Computes thin SVDs; implementations decide where the work runs (one process or all ranks).
public protocol SVDSolver {
    /// The SVD of the `rows × columns` matrix that `fill` describes.
    ///
    /// A distributed solver is collective: every rank must call it with the same sizes and parts, and
    /// every rank returns a bit-identical result.
    /// - Throws: `SVDError` for bad sizes, a failing fill, non-finite input or a LAPACK failure.
    func svd(rows: Int, columns: Int, parts: SVDParts, fill: MatrixRowFill) throws -> SVDResult
}

/// Failures of an SVD solver.
public enum SVDError: CategorizedError, CustomStringConvertible {
    /// Sizes that are not positive, too large for 32-bit LAPACK, or parts beyond the matrix.
    case invalidShape(String)
    /// The fill closure threw on `failure.rank` (every rank then throws this, with that error's category).
    case fillFailed(RankFailure)
    /// The input holds a NaN or infinity (first one found on `rank`).
    case nonFiniteInput(rank: Int, row: Int, column: Int)
    /// A LAPACK/ScaLAPACK routine returned `info` ≠ 0.
    case lapack(routine: String, info: Int32, meaning: String)
    /// The solver cannot run on this communicator (e.g. ScaLAPACK without MPI).
    case unsupported(String)

    /// Non-finite weights are bad input data, a fill keeps its own error's category, a solver that
    /// cannot run here is a usage error; bad shapes and LAPACK failures are bugs.
    public var category: ErrorCategory {
        switch self {
        case .invalidShape, .lapack: return .internal
        case let .fillFailed(failure): return failure.category
        case .nonFiniteInput: return .data
        case .unsupported: return .usage
        }
    }

    public var description: String {
        switch self {
        case let .invalidShape(message):
            return "SVD: invalid shape: \(message)"
        case let .fillFailed(failure):
            return "SVD: filling the matrix failed on rank \(failure.rank): \(failure.message)"
        case let .nonFiniteInput(rank, row, column):
            return "SVD: the matrix holds a NaN or infinity at row \(row), column \(column) (rank \(rank))"
        case let .lapack(routine, info, meaning):
            return "SVD: \(routine) failed with info = \(info): \(meaning)"
        case let .unsupported(message):
            return "SVD: \(message)"
        }
    }
}

extension SVDParts {
    /// Validates the request against an m × n matrix and 32-bit LAPACK limits; returns the resolved
    /// (uRows, vtColumns).
    public func resolve(rows: Int, columns: Int) throws -> (uRows: Int, vtColumns: Int) {
        guard rows >= 1, columns >= 1 else {
            throw SVDError.invalidShape("matrix is \(rows)×\(columns); both sizes must be at least 1")
        }
        guard rows <= Int(Int32.max), columns <= Int(Int32.max), rows.multipliedReportingOverflow(by: columns).overflow == false else {
            throw SVDError.invalidShape("matrix is \(rows)×\(columns); sizes must fit 32-bit LAPACK indices")
        }
        let uRows = self.uRows ?? rows
        let vtColumns = self.vtColumns ?? columns
        guard (0...rows).contains(uRows) else {
            throw SVDError.invalidShape("asked for \(uRows) rows of U, the matrix has \(rows) rows")
        }
        guard (0...columns).contains(vtColumns) else {
            throw SVDError.invalidShape("asked for \(vtColumns) columns of Vᵀ, the matrix has \(columns) columns")
        }
        return (uRows, vtColumns)
    }
}
