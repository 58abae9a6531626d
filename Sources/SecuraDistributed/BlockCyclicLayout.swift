// The 2-D block-cyclic distribution that ScaLAPACK uses, in pure Swift so it can be reasoned about and
// unit-tested without MPI: which rank owns a matrix element, where it sits in that rank's local array,
// and how many rows/columns each rank holds (ScaLAPACK's NUMROC). Indices here are 0-based; the first
// block row and column live on process row/column 0 (RSRC = CSRC = 0).

/// A `rows × columns` grid of ranks, numbered row-major: rank = row·columns + column (BLACS "Row" order).
public struct ProcessGrid: Equatable, Sendable, CustomStringConvertible {
    public let rows: Int
    public let columns: Int

    public init(rows: Int, columns: Int) {
        precondition(rows >= 1 && columns >= 1, "a process grid needs at least one row and one column")
        self.rows = rows
        self.columns = columns
    }

    /// Number of ranks in the grid.
    public var size: Int { rows * columns }

    /// The grid as square as `ranks` allows: the factor pair rows·columns = ranks closest to √ranks.
    /// The larger factor goes to columns, or to rows when `tall` is true (for matrices taller than
    /// wide, so each rank's local piece is closer to square). A prime count gives 1 × ranks.
    public static func nearSquare(ranks: Int, tall: Bool = false) -> ProcessGrid {
        precondition(ranks >= 1, "a process grid needs at least one rank")
        var small = 1
        var candidate = 1
        while candidate * candidate <= ranks {
            if ranks % candidate == 0 { small = candidate }
            candidate += 1
        }
        let large = ranks / small
        return tall ? ProcessGrid(rows: large, columns: small) : ProcessGrid(rows: small, columns: large)
    }

    /// Grid coordinates of `rank`.
    public func coordinates(of rank: Int) -> (row: Int, column: Int) {
        precondition((0..<size).contains(rank), "rank \(rank) is outside the \(self) grid")
        return (rank / columns, rank % columns)
    }

    /// The rank at grid position (`row`, `column`).
    public func rank(row: Int, column: Int) -> Int { row * columns + column }

    public var description: String { "\(rows)×\(columns)" }
}

/// A 1-D block-cyclic distribution of indices 0..<count over `processes` in blocks of `blockSize`.
public struct BlockCyclic: Equatable, Sendable {
    public let count: Int
    public let blockSize: Int
    public let processes: Int

    public init(count: Int, blockSize: Int, processes: Int) {
        precondition(count >= 0 && blockSize >= 1 && processes >= 1, "invalid block-cyclic parameters")
        self.count = count
        self.blockSize = blockSize
        self.processes = processes
    }

    /// The process that owns global `index`.
    public func owner(of index: Int) -> Int { (index / blockSize) % processes }

    /// Position of global `index` in its owner's local array.
    public func localIndex(of index: Int) -> Int {
        (index / (blockSize * processes)) * blockSize + index % blockSize
    }

    /// Global index of local position `local` on `process`.
    public func globalIndex(local: Int, process: Int) -> Int {
        ((local / blockSize) * processes + process) * blockSize + local % blockSize
    }

    /// Number of indices `process` owns (ScaLAPACK's NUMROC with source process 0).
    public func localCount(process: Int) -> Int {
        let fullBlocks = count / blockSize
        var local = (fullBlocks / processes) * blockSize
        let extraBlocks = fullBlocks % processes
        if process < extraBlocks {
            local += blockSize
        } else if process == extraBlocks {
            local += count % blockSize
        }
        return local
    }

    /// The maximal runs of consecutive global indices owned by `process`, in increasing order
    /// (each run is one block, or the tail of the last block).
    public func ownedRuns(process: Int) -> [Range<Int>] {
        stride(from: process * blockSize, to: count, by: blockSize * processes).map {
            $0..<min($0 + blockSize, count)
        }
    }
}

/// A `rows × columns` matrix distributed block-cyclically with square `blockSize` blocks over `grid`.
/// Each rank stores its piece column-major with leading dimension = its local row count.
public struct BlockCyclicLayout: Equatable, Sendable {
    public let rows: BlockCyclic
    public let columns: BlockCyclic
    public let grid: ProcessGrid

    public init(rows: Int, columns: Int, blockSize: Int, grid: ProcessGrid) {
        self.rows = BlockCyclic(count: rows, blockSize: blockSize, processes: grid.rows)
        self.columns = BlockCyclic(count: columns, blockSize: blockSize, processes: grid.columns)
        self.grid = grid
    }

    /// The same distribution restricted to the leading `rows × columns` sub-matrix. Because the
    /// distribution starts at index 0, a rank's part of it is the top-left corner of its local array.
    public func leading(rows: Int, columns: Int) -> BlockCyclicLayout {
        precondition(rows <= self.rows.count && columns <= self.columns.count, "sub-matrix exceeds the matrix")
        return BlockCyclicLayout(rows: rows, columns: columns, blockSize: self.rows.blockSize, grid: grid)
    }

    /// Local (rows, columns) held by `rank`.
    public func localShape(rank: Int) -> (rows: Int, columns: Int) {
        let (row, column) = grid.coordinates(of: rank)
        return (rows.localCount(process: row), columns.localCount(process: column))
    }
}
