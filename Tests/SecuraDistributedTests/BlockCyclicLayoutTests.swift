// The block-cyclic index maths (checked against a brute-force enumeration of blocks), process-grid
// shapes, SVD request validation, and assembling a distributed matrix with allGatherMatrix.
import SecuraDistributed
import XCTest

final class BlockCyclicLayoutTests: XCTestCase {
    func testNearSquareGrids() {
        let shapes = [1, 2, 3, 4, 6, 7, 8, 9, 12, 16].map { n -> [Int] in
            let grid = ProcessGrid.nearSquare(ranks: n)
            return [grid.rows, grid.columns]
        }
        XCTAssertEqual(shapes, [[1, 1], [1, 2], [1, 3], [2, 2], [2, 3], [1, 7], [2, 4], [3, 3], [3, 4], [4, 4]])
        XCTAssertEqual(ProcessGrid.nearSquare(ranks: 6, tall: true), ProcessGrid(rows: 3, columns: 2))
        let grid = ProcessGrid(rows: 2, columns: 3)
        for rank in 0..<6 {
            let (row, column) = grid.coordinates(of: rank)
            XCTAssertEqual(grid.rank(row: row, column: column), rank)
        }
    }

    func testOneDimensionalMapsAgreeWithBruteForce() {
        for count in [0, 1, 5, 16, 17, 100] {
            for blockSize in [1, 3, 4, 64] {
                for processes in [1, 2, 3, 5] {
                    let layout = BlockCyclic(count: count, blockSize: blockSize, processes: processes)
                    // Deal blocks round-robin and record each process's indices in order.
                    var owned = Array(repeating: [Int](), count: processes)
                    for index in 0..<count { owned[(index / blockSize) % processes].append(index) }
                    for process in 0..<processes {
                        let label = "count \(count) nb \(blockSize) P \(processes) p \(process)"
                        XCTAssertEqual(layout.localCount(process: process), owned[process].count, label)
                        XCTAssertEqual(layout.ownedRuns(process: process).flatMap { Array($0) }, owned[process], label)
                        for (local, global) in owned[process].enumerated() {
                            XCTAssertEqual(layout.owner(of: global), process, label)
                            XCTAssertEqual(layout.localIndex(of: global), local, label)
                            XCTAssertEqual(layout.globalIndex(local: local, process: process), global, label)
                        }
                    }
                }
            }
        }
    }

    func testLeadingSubMatrixIsTheTopLeftOfEachLocalArray() {
        let layout = BlockCyclicLayout(rows: 23, columns: 17, blockSize: 4, grid: ProcessGrid(rows: 2, columns: 3))
        let leading = layout.leading(rows: 9, columns: 10)
        for rank in 0..<6 {
            let (row, column) = layout.grid.coordinates(of: rank)
            let shape = leading.localShape(rank: rank)
            for local in 0..<shape.rows {
                XCTAssertLessThan(layout.rows.globalIndex(local: local, process: row), 9)
            }
            for local in 0..<shape.columns {
                XCTAssertLessThan(layout.columns.globalIndex(local: local, process: column), 10)
            }
            // Nothing beyond the leading part is < the cut.
            if shape.rows < layout.localShape(rank: rank).rows {
                XCTAssertGreaterThanOrEqual(layout.rows.globalIndex(local: shape.rows, process: row), 9)
            }
        }
    }

    func testAllGatherMatrixAssemblesEveryRanksBlocks() throws {
        for (ranks, blockSize) in [(1, 3), (2, 2), (4, 3), (4, 1)] {
            let grid = ProcessGrid.nearSquare(ranks: ranks)
            let layout = BlockCyclicLayout(rows: 11, columns: 7, blockSize: blockSize, grid: grid)
            let value = { (row: Int, column: Int) in Float(row * 100 + column) }
            let results = try InProcessWorld.run(ranks: ranks) { comm -> [Float] in
                let (processRow, processColumn) = grid.coordinates(of: comm.rank)
                let shape = layout.localShape(rank: comm.rank)
                var piece = [Float](repeating: 0, count: shape.rows * shape.columns)
                for localColumn in 0..<shape.columns {
                    for localRow in 0..<shape.rows {
                        piece[localColumn * shape.rows + localRow] = value(
                            layout.rows.globalIndex(local: localRow, process: processRow),
                            layout.columns.globalIndex(local: localColumn, process: processColumn))
                    }
                }
                return try comm.allGatherMatrix(localPiece: piece, layout: layout)
            }
            let expected = (0..<77).map { value($0 / 7, $0 % 7) }
            XCTAssertEqual(results, Array(repeating: expected, count: ranks), "ranks \(ranks), nb \(blockSize)")
        }
    }

    func testAllGatherStringsOfDifferentLengths() throws {
        let results = try InProcessWorld.run(ranks: 4) { comm in
            try comm.allGather(string: String(repeating: "x", count: comm.rank) + "é\(comm.rank)")
        }
        XCTAssertEqual(results, Array(repeating: ["é0", "xé1", "xxé2", "xxxé3"], count: 4))
        let floats = try InProcessWorld.run(ranks: 3) { comm in
            try comm.allGather(floats: comm.rank == 1 ? [] : [Float(comm.rank), 0.5])
        }
        XCTAssertEqual(floats[2], [[0, 0.5], [], [2, 0.5]])
    }

    func testSVDPartsValidation() throws {
        XCTAssertEqual(try SVDParts.all.resolve(rows: 4, columns: 3).uRows, 4)
        XCTAssertEqual(try SVDParts(uRows: 2, vtColumns: 1).resolve(rows: 4, columns: 3).vtColumns, 1)
        XCTAssertThrowsError(try SVDParts.all.resolve(rows: 0, columns: 3))
        XCTAssertThrowsError(try SVDParts(uRows: 5).resolve(rows: 4, columns: 3))
        XCTAssertThrowsError(try SVDParts(vtColumns: -1).resolve(rows: 4, columns: 3))
        XCTAssertThrowsError(try SVDParts.all.resolve(rows: Int(Int32.max) + 1, columns: 1))
    }

    func testSingleProcessCommunicatorIsTheIdentity() throws {
        let comm = SingleProcessCommunicator()
        var values: [Float] = [1, -2]
        try comm.allReduceSum(&values)
        try comm.allReduceMax(&values)
        try comm.barrier()
        XCTAssertEqual(values, [1, -2])
        XCTAssertEqual(try comm.allGather(string: "solo"), ["solo"])
        XCTAssertThrowsError(try comm.broadcast(&values, root: 1))
    }
}
