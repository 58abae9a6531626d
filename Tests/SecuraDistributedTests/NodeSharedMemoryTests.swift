// Node-shared memory with the in-process communicator (2 nodes × 2 ranks unless stated): the ranks of a
// node see one buffer and other nodes their own, it starts zeroed, writes are visible after
// nodeBarrier, node collectives only wait for the node's own ranks, misuse (different counts, a free on
// some ranks only) throws instead of hanging, and the single-process and default (protocol extension)
// implementations behave the same for a one-rank node.
import Foundation
import SecuraDistributed
import XCTest

final class NodeSharedMemoryTests: XCTestCase {
    func testRanksOfANodeShareOneBufferAndNodesDoNot() throws {
        let count = 64
        let results = try InProcessWorld.run(ranks: 4, ranksPerNode: 2) { comm -> (address: Int, values: [Float]) in
            let shared = try comm.allocateNodeShared(count: count)
            XCTAssertEqual(shared.isOwner, comm.localRank == 0)
            for i in comm.nodeShard(rows: count, panel: 8) { shared.buffer[i] = Float(comm.rank + 1) }
            try comm.nodeBarrier()
            let values = Array(shared.buffer)
            let address = Int(bitPattern: shared.buffer.baseAddress)
            // Every rank of the world, not only of the node: otherwise node 0 could free its buffer before node 1
            // allocates, and node 1 get the same address back (seen once in CI).
            try comm.barrier()
            try shared.free()
            return (address, values)
        }
        XCTAssertEqual(results[0].address, results[1].address, "node 0's ranks share one buffer")
        XCTAssertEqual(results[2].address, results[3].address, "node 1's ranks share one buffer")
        XCTAssertNotEqual(results[0].address, results[2].address, "each node has its own buffer")
        let half = [Float](repeating: 1, count: 32)
        XCTAssertEqual(results[0].values, half + half.map { $0 + 1 })  // ranks 0 and 1 wrote node 0's
        XCTAssertEqual(results[1].values, results[0].values)
        XCTAssertEqual(results[2].values, half.map { $0 + 2 } + half.map { $0 + 3 })  // ranks 2 and 3
        XCTAssertEqual(results[3].values, results[2].values)
    }

    func testBuffersStartZeroedAndSequencesPairUp() throws {
        let results = try InProcessWorld.run(ranks: 4, ranksPerNode: 2) { comm -> [Int] in
            let first = try comm.allocateNodeShared(count: 10)
            let empty = try comm.allocateNodeShared(count: 0)
            // Nodes may use different counts: the collective is per node.
            let second = try comm.allocateNodeShared(count: 100 + comm.rank / 2)
            XCTAssertTrue(first.buffer.allSatisfy { $0 == 0 } && second.buffer.allSatisfy { $0 == 0 })
            XCTAssertEqual(empty.count, 0)
            XCTAssertTrue(empty.buffer.isEmpty)
            XCTAssertEqual(second.count, 100 + comm.rank / 2)
            try comm.nodeBarrier()  // every rank has read the zeros before anyone writes
            if comm.localRank == 1 { second.buffer[0] = 7 }
            try comm.nodeBarrier()
            XCTAssertEqual(second.buffer[0], 7, "rank \(comm.rank)")
            XCTAssertEqual(first.buffer[0], 0, "the k-th allocations pair up, not the first with the third")
            return [first, second].map { Int(bitPattern: $0.buffer.baseAddress) }
        }
        XCTAssertEqual(results[0], results[1])
        XCTAssertEqual(results[2], results[3])
        XCTAssertNotEqual(results[0][0], results[0][1])
    }

    func testWritesAreVisibleAfterEveryNodeBarrier() throws {
        let rounds = 40
        let failures = try InProcessWorld.run(ranks: 6, ranksPerNode: 3) { comm -> Int in
            let shared = try comm.allocateNodeShared(count: 257)
            var failures = 0
            for round in 1...rounds {
                // One writer per round, rotating; every rank checks all elements after the barrier.
                if comm.localRank == round % comm.localSize {
                    for i in 0..<shared.count { shared.buffer[i] = Float(round * 1000 + i) }
                }
                try comm.nodeBarrier()
                for i in 0..<shared.count where shared.buffer[i] != Float(round * 1000 + i) { failures += 1 }
                try comm.nodeBarrier()  // all reads done before the next writer starts
            }
            try shared.free()
            return failures
        }
        XCTAssertEqual(failures, [0, 0, 0, 0, 0, 0])
    }

    func testNodeBarrierWaitsOnlyForTheNodesOwnRanks() throws {
        let counts = try InProcessWorld.run(ranks: 4, ranksPerNode: 2) { comm -> Int in
            let barriers = comm.rank < 2 ? 5 : 1  // node 0 and node 1 pass different numbers of node barriers
            for _ in 0..<barriers { try comm.nodeBarrier() }
            try comm.barrier()
            return barriers
        }
        XCTAssertEqual(counts, [5, 5, 1, 1])
    }

    func testDifferentCountsOnOneNodeThrowOnEveryRankOfThatNode() throws {
        let outcomes = try InProcessWorld.run(ranks: 4, ranksPerNode: 2) { comm -> String in
            do {
                let shared = try comm.allocateNodeShared(count: comm.rank == 3 ? 11 : 10)
                try shared.free()
                return "ok"
            } catch let CommunicatorError.lengthMismatch(_, rank, expected, found) {
                return "mismatch \(rank) \(expected) \(found)"
            }
        }
        // Local rank 1 of node 1 passed 11 where local rank 0 passed 10; node 0 is unaffected.
        XCTAssertEqual(outcomes, ["ok", "ok", "mismatch 1 10 11", "mismatch 1 10 11"])
    }

    func testFreeIsCollectiveAndMisuseThrows() throws {
        let freed = try InProcessWorld.run(ranks: 2) { comm -> Bool in
            let shared = try comm.allocateNodeShared(count: 8)
            try shared.free()
            try shared.free()  // a second free does nothing
            return shared.isFreed
        }
        XCTAssertEqual(freed, [true, true])

        // Rank 0 frees while rank 1 waits in a node barrier: both must throw, neither may hang.
        let outcomes = try InProcessWorld.run(ranks: 2) { comm -> Bool in
            let shared = try comm.allocateNodeShared(count: 8)
            do {
                if comm.rank == 0 { try shared.free() } else { try comm.nodeBarrier() }
                return false
            } catch CommunicatorError.transport {
                return true
            }
        }
        XCTAssertEqual(outcomes, [true, true])
    }

    func testSliceAddressesPartOfTheBuffer() throws {
        let shared = try SingleProcessCommunicator().allocateNodeShared(count: 10)
        let part = shared.slice(4..<7)
        for i in part.indices { part[i] = Float(i + 1) }
        XCTAssertEqual(Array(shared.buffer), [0, 0, 0, 0, 1, 2, 3, 0, 0, 0])
        try shared.free()
        XCTAssertTrue(shared.isFreed)
    }

    func testSingleProcessNodeSharedMemory() throws {
        let comm = SingleProcessCommunicator()
        let shared = try comm.allocateNodeShared(count: 1000)
        XCTAssertTrue(shared.isOwner)
        XCTAssertTrue(shared.buffer.allSatisfy { $0 == 0 })
        XCTAssertEqual(comm.nodeShard(rows: 1000, panel: 64), 0..<1000)
        try comm.nodeBarrier()
        var values: [Float] = [3, -2]
        try comm.allReduceMin(&values)
        XCTAssertEqual(values, [3, -2])
        try shared.free()
    }
}
