// Data parallelism with the in-process communicator: 1, 2 and 4 ranks give the same trainable values
// and merged weights for the same global batch (within 1e-5 relative), and all ranks stay identical.
import Foundation
import XCTest
import SecuraAdapters
import SecuraDistributed
import SecuraModel
import TestSupport
@testable import SecuraTrain

final class DataParallelTests: XCTestCase {
    static func train(_ method: AdapterMethod, ranks: Int, steps: Int = 5, imsm: IMSMSettings? = nil) throws -> [[Float]] {
        var results = [[Float]](repeating: [], count: ranks)
        let lock = NSLock()
        try InProcessWorld.run(ranks: ranks) { comm in
            let loaded = try ModelLoader.open(FixturePaths.fixture("tiny-llama").path)
            var s = MethodSettings()
            s.method = method
            s.cabrInit = .slice
            s.curRank = 16
            s.cabrM = 20
            s.rank = 4
            s.dropout = 0.1
            s.imsm = imsm
            let adapters = try AdapterSet(config: loaded.config, base: loaded.source, settings: s, seed: 3, solver: NoSVD(),
                                          comm: comm)
            var o = TrainingOptions()
            o.batchSize = 4
            o.microBatch = 1
            o.schedule = LRSchedule(kind: .constant, base: 1e-2, warmup: 0, total: steps)
            let trainer = try Trainer(adapters: adapters, options: o, comm: comm,
                                      train: TrainingTests.examples(seed: 1), validation: [])
            for _ in 0..<steps { _ = try trainer.trainStep() }
            try trainer.checkConsistency()
            var state = adapters.parameters.values.storage.toArray()
            for site in adapters.masters.keys.sorted() { state += adapters.masters[site]!.toArray() }
            lock.lock(); results[comm.rank] = state; lock.unlock()
        }
        return results
    }

    func testRankCountsAgree() throws {
        for method in [AdapterMethod.curLoRA, .lora, .securaM1] {
            let one = try Self.train(method, ranks: 1)[0]
            for ranks in [2, 4] {
                let many = try Self.train(method, ranks: ranks)
                for r in 1..<ranks { assertBitIdentical(many[r], many[0], "\(method.rawValue): rank \(r) vs rank 0") }
                let worst = try scaledDifference(many[0], one, "\(method.rawValue): \(ranks) ranks vs 1")
                XCTAssertLessThanOrEqual(worst, 1e-6, "\(method.rawValue): \(ranks) ranks vs 1")
                print("data parallel \(method.rawValue): \(ranks) ranks vs 1: max difference / max value = \(worst)")
            }
        }
    }
}
