// A BLACS process grid over MPI_COMM_WORLD for one ScaLAPACK computation: created, checked against the
// Swift-side ProcessGrid numbering (row-major, rank = row·columns + column), and released afterwards.
import CScaLAPACK
import SecuraDistributed

/// A live BLACS grid context. Create it on every rank (collective) and call `exit()` when done.
struct BLACSGrid {
    /// The BLACS context handle.
    let context: Int32
    /// This rank's process row and column.
    let row: Int
    let column: Int
    let grid: ProcessGrid

    /// Starts the BLACS on top of the already-initialised MPI (Cblacs_pinfo sees MPI is up and reuses
    /// MPI_COMM_WORLD) and builds a `grid` in row-major order.
    init(communicator: MPICommunicator, grid: ProcessGrid) throws {
        precondition(grid.size == communicator.size, "grid \(grid) does not match \(communicator.size) ranks")
        try communicator.checkThread("BLACS grid")
        var me: Int32 = -1, processes: Int32 = -1
        Cblacs_pinfo(&me, &processes)
        communicator.usedBLACS = true
        guard Int(me) == communicator.rank, Int(processes) == communicator.size else {
            throw SVDError.unsupported("BLACS sees rank \(me) of \(processes), MPI says \(communicator.rank) "
                                       + "of \(communicator.size); the BLACS must run on MPI_COMM_WORLD")
        }
        var context: Int32 = -1
        Cblacs_get(-1, Int32(SECURA_BLACS_SYSTEM_CONTEXT), &context)
        Cblacs_gridinit(&context, "Row", Int32(grid.rows), Int32(grid.columns))
        // Repeatable combine topologies, so reductions inside ScaLAPACK give the same bits run to run.
        var repeatable: Int32 = 1
        Cblacs_set(context, Int32(SECURA_BLACS_TOPS_REPEAT), &repeatable)
        var rows: Int32 = -1, columns: Int32 = -1, myRow: Int32 = -1, myColumn: Int32 = -1
        Cblacs_gridinfo(context, &rows, &columns, &myRow, &myColumn)
        let expected = grid.coordinates(of: communicator.rank)
        guard rows == grid.rows, columns == grid.columns, myRow == expected.row, myColumn == expected.column else {
            throw SVDError.unsupported("BLACS grid is \(rows)×\(columns) at (\(myRow), \(myColumn)); expected \(grid) "
                                       + "at (\(expected.row), \(expected.column))")
        }
        self.context = context
        self.grid = grid
        row = Int(myRow)
        column = Int(myColumn)
    }

    /// The ScaLAPACK array descriptor of `layout` on this grid (local leading dimension ≥ 1).
    func descriptor(for layout: BlockCyclicLayout) throws -> [Int32] {
        let localRows = layout.rows.localCount(process: row)
        var m = Int32(layout.rows.count), n = Int32(layout.columns.count)
        var mb = Int32(layout.rows.blockSize), nb = Int32(layout.columns.blockSize)
        var zero: Int32 = 0, context = self.context, leading = Int32(max(1, localRows)), info: Int32 = 0
        // Cross-check the Swift layout against ScaLAPACK's own NUMROC once per descriptor.
        var processRow = Int32(row), processes = Int32(grid.rows)
        assert(Int(numroc_(&m, &mb, &processRow, &zero, &processes)) == localRows, "NUMROC disagrees with BlockCyclic")
        var descriptor = [Int32](repeating: 0, count: 9)
        descinit_(&descriptor, &m, &n, &mb, &nb, &zero, &zero, &context, &leading, &info)
        guard info == 0 else {
            throw SVDError.lapack(routine: "descinit", info: info, meaning: "argument \(-info) is invalid")
        }
        return descriptor
    }

    /// Releases the grid (the BLACS themselves stay up until MPICommunicator.finalize).
    func exit() {
        Cblacs_gridexit(context)
    }
}
