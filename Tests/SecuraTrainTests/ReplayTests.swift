// Experience replay: the reservoir keeps every example with the same chance, the mix fills a fixed share of
// each batch from the buffer and leaves the task's own order intact, and training with replay gives the same
// values on 1 and 2 ranks.
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraModel
import TestSupport
@testable import SecuraTrain
import XCTest

final class ReplayTests: XCTestCase {
    func example(_ i: Int) -> TrainingExample { TrainingExample(tokens: [1, Int32(i)], lossMask: [false, true]) }

    func testReservoirFillsThenKeepsEveryExampleWithTheSameChance() {
        var b = ReplayBuffer(capacity: 10)
        b.offer((0..<4).map(example), seed: 1)
        XCTAssertEqual(b.examples.count, 4)
        XCTAssertEqual(b.seen, 4)
        b.offer((4..<100).map(example), seed: 1)
        XCTAssertEqual(b.examples.count, 10)
        XCTAssertEqual(b.seen, 100)
        var again = ReplayBuffer(capacity: 10)
        again.offer((0..<4).map(example), seed: 1)
        again.offer((4..<100).map(example), seed: 1)
        XCTAssertEqual(again, b, "the same stream and seed give the same buffer")
        // Inclusion frequency of each example over many seeds: 10/100 for the first task's and the last task's alike.
        var counts = [Int](repeating: 0, count: 100)
        let trials = 3000
        for seed in 0..<trials {
            var r = ReplayBuffer(capacity: 10)
            r.offer((0..<50).map(example), seed: UInt64(seed))
            r.offer((50..<100).map(example), seed: UInt64(seed))
            for e in r.examples { counts[Int(e.tokens[1])] += 1 }
        }
        let early = Double(counts[0..<50].reduce(0, +)) / Double(50 * trials)
        let late = Double(counts[50..<100].reduce(0, +)) / Double(50 * trials)
        XCTAssertEqual(early, 0.1, accuracy: 0.01)
        XCTAssertEqual(late, 0.1, accuracy: 0.01)
    }

    func testMixKeepsTheTaskOrderAndReplaysAFixedShare() {
        let buffer = (1000..<1010).map(example)
        let mix = ReplayMix(buffer: buffer, ratio: 0.25, batchSize: 8, seed: 3)
        XCTAssertEqual(mix.perBatch, 2)
        var taskSeen: [Int] = []
        for g in 0..<24 {
            let e = mix.example(at: g, batchSize: 8) { i in taskSeen.append(i); return self.example(i) }
            let id = Int(e.tokens[1])
            if g % 8 < 6 { XCTAssertLessThan(id, 1000, "position \(g % 8) is the task's") } else { XCTAssertGreaterThanOrEqual(id, 1000) }
        }
        XCTAssertEqual(taskSeen, Array(0..<18), "the task's samples keep their order, 6 per batch")
        XCTAssertEqual(ReplayMix(buffer: buffer, ratio: 0.99, batchSize: 4, seed: 3).perBatch, 3, "one task sequence always remains")
        XCTAssertEqual(ReplayMix(buffer: [], ratio: 0.5, batchSize: 4, seed: 3).perBatch, 0)
    }

    func testTrainingWithReplayDoesNotDependOnTheRankCount() throws {
        func train(ranks: Int) throws -> [[Float]] {
            var results = [[Float]](repeating: [], count: ranks)
            let lock = NSLock()
            try InProcessWorld.run(ranks: ranks) { comm in
                let loaded = try ModelLoader.open(FixturePaths.fixture("tiny-llama").path)
                var s = MethodSettings()
                s.method = .lora
                s.rank = 4
                s.dropout = 0.1
                let adapters = try AdapterSet(config: loaded.config, base: loaded.source, settings: s, seed: 3, solver: NoSVD(), comm: comm)
                var o = TrainingOptions()
                o.batchSize = 4
                o.schedule = LRSchedule(kind: .constant, base: 1e-2, warmup: 0, total: 4)
                let trainer = try Trainer(adapters: adapters, options: o, comm: comm, train: TrainingTests.examples(seed: 1), validation: [])
                trainer.replay = ReplayMix(buffer: TrainingTests.examples(seed: 2, count: 6), ratio: 0.5, batchSize: 4, seed: 9)
                for _ in 0..<4 { _ = try trainer.trainStep() }
                lock.lock(); results[comm.rank] = adapters.parameters.values.storage.toArray(); lock.unlock()
            }
            return results
        }
        let one = try train(ranks: 1)[0], two = try train(ranks: 2)
        XCTAssertEqual(two[0], two[1])
        XCTAssertEqual(one.count, two[0].count)
        XCTAssertFalse(one.isEmpty)
        let scale = one.map(abs).max() ?? 1
        for (a, b) in zip(one, two[0]) { XCTAssertEqual(a, b, accuracy: 1e-6 * scale) }
        // Replay changes the run: without it the values differ.
        XCTAssertNotEqual(one, try trainWithout())
    }

    func trainWithout() throws -> [Float] {
        let loaded = try ModelLoader.open(FixturePaths.fixture("tiny-llama").path)
        var s = MethodSettings()
        s.method = .lora
        s.rank = 4
        s.dropout = 0.1
        let adapters = try AdapterSet(config: loaded.config, base: loaded.source, settings: s, seed: 3, solver: NoSVD())
        var o = TrainingOptions()
        o.batchSize = 4
        o.schedule = LRSchedule(kind: .constant, base: 1e-2, warmup: 0, total: 4)
        let trainer = try Trainer(adapters: adapters, options: o, comm: SingleProcessCommunicator(), train: TrainingTests.examples(seed: 1), validation: [])
        for _ in 0..<4 { _ = try trainer.trainStep() }
        return adapters.parameters.values.storage.toArray()
    }
}
