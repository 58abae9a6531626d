// Splitting rows among a node's ranks in whole panels: every split covers 0..<rows exactly once, in
// order, in whole panels, balanced to within one panel, and a communicator's nodeShard uses its own
// local rank and local size.
import SecuraDistributed
import XCTest

final class NodeShardTests: XCTestCase {
    func testSplitsCoverEveryRowOnceInWholePanels() {
        for rows in [0, 1, 5, 64, 100, 577, 4096] {
            for panel in [1, 3, 16, 64, 1000] {
                for parts in 1...7 {
                    let shards = (0..<parts).map { NodeShard.rows(rows, panel: panel, part: $0, of: parts) }
                    let label = "rows \(rows), panel \(panel), parts \(parts)"
                    XCTAssertEqual(shards.first?.lowerBound, 0, label)
                    XCTAssertEqual(shards.last?.upperBound, rows, label)
                    for (a, b) in zip(shards, shards.dropFirst()) { XCTAssertEqual(a.upperBound, b.lowerBound, label) }
                    let panelCounts = shards.map { ($0.count + panel - 1) / panel }
                    for shard in shards where shard.upperBound < rows {
                        XCTAssertEqual(shard.count % panel, 0, "\(label): \(shard) is not whole panels")
                    }
                    XCTAssertLessThanOrEqual(panelCounts.max()! - panelCounts.min()!, 1, "\(label): \(panelCounts)")
                }
            }
        }
    }

    func testExamples() {
        // 10 rows in panels of 4: panels [0,4) [4,8) [8,10) over two parts.
        XCTAssertEqual(NodeShard.rows(10, panel: 4, part: 0, of: 2), 0..<4)
        XCTAssertEqual(NodeShard.rows(10, panel: 4, part: 1, of: 2), 4..<10)
        // Fewer panels than parts: some parts are empty.
        XCTAssertEqual((0..<4).map { NodeShard.rows(3, panel: 2, part: $0, of: 4) }, [0..<0, 0..<2, 2..<2, 2..<3])
    }

    func testCommunicatorShardUsesItsNode() throws {
        // 5 ranks, 3 per node: node 0 has local ranks 0..2, node 1 has 0..1.
        let shards = try InProcessWorld.run(ranks: 5, ranksPerNode: 3) { comm in
            comm.nodeShard(rows: 90, panel: 10)
        }
        XCTAssertEqual(shards, [0..<30, 30..<60, 60..<90, 0..<40, 40..<90])
    }
}
