// Collectives of the in-process communicator across 1, 2 and 4 ranks: sums, max, broadcast, barrier,
// bit-identical deterministic reductions, and the error paths (length mismatch, bad root, mismatched
// collectives, a failing or aborting rank) which must throw rather than hang.
import Foundation
import SecuraDistributed
import XCTest

final class InProcessCommunicatorTests: XCTestCase {
    let rankCounts = [1, 2, 4]

    func testAllReduceSumFloatAndDouble() throws {
        for n in rankCounts {
            let results = try InProcessWorld.run(ranks: n) { comm -> ([Float], [Double]) in
                var floats = (0..<5).map { Float(comm.rank * 10 + $0) }
                var doubles = (0..<3).map { Double(comm.rank) + Double($0) / 4 }
                try comm.allReduceSum(&floats)
                try comm.allReduceSum(&doubles)
                return (floats, doubles)
            }
            let rankSum = (0..<n).reduce(0, +)
            for (floats, doubles) in results {
                XCTAssertEqual(floats, (0..<5).map { Float(10 * rankSum + n * $0) }, "ranks: \(n)")
                XCTAssertEqual(doubles, (0..<3).map { Double(rankSum) + Double(n * $0) / 4 }, "ranks: \(n)")
            }
        }
    }

    func testAllReduceMax() throws {
        for n in rankCounts {
            let results = try InProcessWorld.run(ranks: n) { comm -> [Float] in
                // Element 0 peaks on the last rank, element 1 on rank 0, element 2 is negative everywhere.
                var values: [Float] = [Float(comm.rank), Float(-comm.rank), -5 - Float(comm.rank)]
                try comm.allReduceMax(&values)
                return values
            }
            for values in results { XCTAssertEqual(values, [Float(n - 1), 0, -5], "ranks: \(n)") }
        }
    }

    func testMaxPropagatesNaN() throws {
        let results = try InProcessWorld.run(ranks: 4) { comm -> Float in
            var values: [Float] = [comm.rank == 2 ? .nan : Float(comm.rank)]
            try comm.allReduceMax(&values)
            return values[0]
        }
        XCTAssertTrue(results.allSatisfy { $0.isNaN })
    }

    func testBroadcastFromEveryRoot() throws {
        for n in rankCounts {
            for root in 0..<n {
                let results = try InProcessWorld.run(ranks: n) { comm -> [Int32] in
                    var values = comm.rank == root ? [7, Int32(root), -3] : [Int32](repeating: 0, count: 3)
                    try comm.broadcast(&values, root: root)
                    return values
                }
                XCTAssertEqual(results, Array(repeating: [7, Int32(root), -3], count: n), "ranks \(n), root \(root)")
            }
        }
    }

    func testBarrierOrdersEveryRanksWork() throws {
        for n in rankCounts {
            let counter = Counter()
            let seen = try InProcessWorld.run(ranks: n) { comm -> Int in
                usleep(UInt32(1000 * (n - comm.rank)))  // later ranks arrive first
                counter.increment()
                try comm.barrier()
                return counter.value
            }
            XCTAssertEqual(seen, Array(repeating: n, count: n), "every rank sees all increments after the barrier")
        }
    }

    func testReductionsAreInRankOrderAndBitIdentical() throws {
        // Summation order changes the bits for these values; rank order is the contract.
        let inputs: [[Float]] = [[1e8, 0.1, 3], [1, 0.2, -1e-7], [-1e8, 0.3, 1e-7], [1, 0.4, 7e-8]]
        let expected = (0..<3).map { i in inputs.dropFirst().reduce(inputs[0][i]) { $0 + $1[i] } }
        for _ in 0..<50 {
            let results = try InProcessWorld.run(ranks: 4) { comm -> [Float] in
                var values = inputs[comm.rank]
                if comm.rank % 2 == 1 { usleep(UInt32.random(in: 0...200)) }
                try comm.allReduceSum(&values)
                return values
            }
            for values in results {
                XCTAssertEqual(values.map(\.bitPattern), expected.map(\.bitPattern))
            }
        }
    }

    func testRepeatedCollectivesReuseTheWorld() throws {
        let results = try InProcessWorld.run(ranks: 4) { comm -> Double in
            var total = [0.0]
            for step in 0..<200 {
                var value = [Double(comm.rank + step)]
                try comm.allReduceSum(&value)
                total[0] += value[0]
                if step % 50 == 0 { try comm.barrier() }
            }
            return total[0]
        }
        let expected = (0..<200).reduce(0.0) { $0 + Double(6 + 4 * $1) }
        XCTAssertEqual(results, Array(repeating: expected, count: 4))
    }

    func testNodeSimulation() throws {
        let results = try InProcessWorld.run(ranks: 5, ranksPerNode: 2) { comm in
            "\(comm.hostName) \(comm.localRank)/\(comm.localSize)"
        }
        XCTAssertEqual(results, ["node0 0/2", "node0 1/2", "node1 0/2", "node1 1/2", "node2 0/1"])
    }

    // MARK: Errors

    func testLengthMismatchThrowsOnEveryRank() throws {
        let results = try InProcessWorld.run(ranks: 4) { comm -> String in
            var values = [Float](repeating: 1, count: comm.rank == 2 ? 3 : 4)
            do {
                try comm.allReduceSum(&values)
                return "no error"
            } catch let CommunicatorError.lengthMismatch(_, rank, expected, found) {
                return "rank \(rank): \(found) vs \(expected)"
            }
        }
        XCTAssertEqual(results, Array(repeating: "rank 2: 3 vs 4", count: 4))
    }

    func testBroadcastLengthMismatchAndInvalidRoot() throws {
        let results = try InProcessWorld.run(ranks: 2) { comm -> [String] in
            var outcomes: [String] = []
            var bytes = [UInt8](repeating: 0, count: comm.rank + 1)
            do { try comm.broadcast(&bytes, root: 0) } catch { outcomes.append("\(error)") }
            var fixed = [UInt8](repeating: 0, count: 2)
            do { try comm.broadcast(&fixed, root: 5) } catch CommunicatorError.invalidRank { outcomes.append("invalid root") }
            return outcomes
        }
        for outcomes in results {
            XCTAssertEqual(outcomes.count, 2)
            XCTAssertTrue(outcomes[0].contains("rank 1 passed 2 elements, rank 0 passed 1"), outcomes[0])
            XCTAssertEqual(outcomes[1], "invalid root")
        }
    }

    func testMismatchedCollectivesThrowInsteadOfHanging() throws {
        XCTAssertThrowsError(try InProcessWorld.run(ranks: 2) { comm in
            if comm.rank == 0 { try comm.barrier() } else { var v: [Float] = [1]; try comm.allReduceSum(&v) }
        }) { error in
            XCTAssertTrue("\(error)".contains("called"), "\(error)")
        }
    }

    func testFailingRankIsRethrownAndPeersDoNotHang() throws {
        struct Boom: Error {}
        XCTAssertThrowsError(try InProcessWorld.run(ranks: 4) { comm in
            if comm.rank == 3 { throw Boom() }
            try comm.barrier()
        }) { error in
            XCTAssertTrue(error is Boom, "the first failure is the rank's own error, got \(error)")
        }
    }

    func testRankReturningEarlyFailsTheOthers() throws {
        XCTAssertThrowsError(try InProcessWorld.run(ranks: 3) { comm in
            if comm.rank != 0 { try comm.barrier() }
        })
    }

    func testAbortEndsTheWorldButNotTheProcess() throws {
        XCTAssertThrowsError(try InProcessWorld.run(ranks: 4) { comm in
            if comm.rank == 1 { comm.abort(code: 3, message: "test abort") }
            try comm.barrier()
        }) { error in
            guard case let InProcessWorldError.aborted(rank, code, message) = error else {
                return XCTFail("expected an abort, got \(error)")
            }
            XCTAssertEqual(rank, 1)
            XCTAssertEqual(code, 3)
            XCTAssertEqual(message, "test abort")
        }
        // The process (and new worlds) carry on.
        XCTAssertEqual(try InProcessWorld.run(ranks: 2) { $0.rank }, [0, 1])
    }
}

/// A thread-safe counter for the barrier test.
private final class Counter {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
