// The SECURA-M1 merge over node-shared master weights: ranks of a node each merge their row shard of
// every matrix, the maxima meet in one MAX all-reduce, and the result equals the single-process merge
// bit for bit (for 2 ranks on one node and for 4 ranks on 2 nodes of 2), whether the ΔW panels are kept
// between the merge's passes or multiplied out twice, and on one or two element-wise threads.
import Foundation
import XCTest
import SecuraAdapters
import SecuraDistributed
import SecuraModel
import SecuraTensor
import TestSupport
@testable import SecuraTrain

final class NodeSharedMergeTests: XCTestCase {
    /// Masters after two merges with the same random B on every rank, then a checksum pass.
    func mergedMasters(comm: Communicator, keptBudget: Int = SecuraM1Method.keptDeltaBudget) throws -> [Float] {
        let loaded = try ModelLoader.open(FixturePaths.fixture("tiny-llama").path)
        var s = MethodSettings()
        s.method = .securaM1
        s.cabrInit = .slice
        s.curRank = 16
        s.cabrM = 20
        // q_proj has 96 rows (two 64-row panels), v_proj 48 (one), up_proj 176 (three).
        s.targets = [.q, .v, .up]
        let adapters = try AdapterSet(config: loaded.config, base: loaded.source, settings: s, seed: 3, solver: NoSVD(),
                                      comm: comm)
        var rng = SeededRandom(seed: 11)
        for _ in 0..<2 {
            for site in adapters.cabr.keys.sorted() {
                let b = adapters.parameters.tensor(CABRDelta.names(site).b).value
                for i in 0..<(s.cabrM * s.curRank) { b[i] = rng.normal() * 0.05 }
            }
            try SecuraM1Method.merge(adapters, comm: comm, keptBudget: keptBudget)
        }
        var out: [Float] = []
        for site in adapters.masters.keys.sorted() { out += adapters.masters[site]!.toArray() }
        return out
    }

    func testShardedMergeEqualsSingleProcessBitForBit() throws {
        let single = try mergedMasters(comm: SingleProcessCommunicator())
        let loaded = try ModelLoader.open(FixturePaths.fixture("tiny-llama").path)
        let original = try [Projection.q, .v, .up].flatMap { p in
            try (0..<2).flatMap { try loaded.source.view(LinearSite(layer: $0, projection: p).weightName).toFloatArray() }
        }
        XCTAssertNotEqual(single.sorted(), original.sorted(), "the merges must change the weights")
        for (ranks, perNode) in [(2, 2), (4, 2)] {
            let results = try InProcessWorld.run(ranks: ranks, ranksPerNode: perNode) { comm in
                try self.mergedMasters(comm: comm)
            }
            for r in 0..<ranks {
                assertBitIdentical(results[r], single, "\(ranks) ranks (\(perNode) per node), rank \(r)")
            }
        }
        let twice = try InProcessWorld.run(ranks: 2, ranksPerNode: 2) { comm in
            try self.mergedMasters(comm: comm, keptBudget: 0)
        }
        assertBitIdentical(twice[0], single, "2 ranks, ΔW multiplied out in both passes")
        assertBitIdentical(try mergedMasters(comm: SingleProcessCommunicator(), keptBudget: 0), single, "1 rank, not kept")
        let threads = Parallel.threads
        defer { Parallel.threads = threads }
        Parallel.threads = 2
        assertBitIdentical(try mergedMasters(comm: SingleProcessCommunicator()), single, "1 rank, 2 element-wise threads")
    }
}
