// Experience replay: the reservoir keeps every example with the same chance, the mix fills a fixed share of
// each batch from the buffer and leaves the task's own order intact, and 1, 2 and 4 ranks process the same
// replayed batches and reach the same values.
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

    /// A LoRA trainer on the tiny Llama whose batches of `batchSize` are half replayed from a 6-example buffer.
    func replayTrainer(_ comm: Communicator, batchSize: Int, steps: Int) throws -> Trainer {
        let loaded = try ModelLoader.open(FixturePaths.fixture("tiny-llama").path)
        var s = MethodSettings()
        s.method = .lora
        s.rank = 4
        s.dropout = 0.1
        let adapters = try AdapterSet(config: loaded.config, base: loaded.source, settings: s, seed: 3, solver: NoSVD(), comm: comm)
        var o = TrainingOptions()
        o.batchSize = batchSize
        o.schedule = LRSchedule(kind: .constant, base: 1e-2, warmup: 0, total: steps)
        let trainer = try Trainer(adapters: adapters, options: o, comm: comm, train: TrainingTests.examples(seed: 1), validation: [])
        trainer.replay = ReplayMix(buffer: TrainingTests.examples(seed: 2, count: 6), ratio: 0.5, batchSize: batchSize, seed: 9)
        return trainer
    }

    /// The batches a job processes, gathered over its ranks: for each global sample index, the example the
    /// rank it is dealt to trains on (the step's micro-batches as `trainStep` takes them from DataOrder, each
    /// sample's example from `Trainer.example(at:)`). 1, 2 and 4 ranks process the same examples at the same
    /// indices, every index of every step exactly once, with the same replayed share.
    func testReplayBatchesDoNotDependOnTheRankCount() throws {
        let batchSize = 8, steps = 5
        let buffer = Set(TrainingTests.examples(seed: 2, count: 6).map(\.tokens))
        func batches(ranks: Int) throws -> [(sample: Int, tokens: [Int32])] {
            let perRank = try InProcessWorld.run(ranks: ranks) { comm -> [(sample: Int, tokens: [Int32])] in
                let trainer = try self.replayTrainer(comm, batchSize: batchSize, steps: steps)
                var seen: [(sample: Int, tokens: [Int32])] = []
                for step in 0..<steps {
                    for samples in try DataOrder.microBatches(step: step, batchSize: batchSize, microBatch: trainer.options.microBatch,
                                                              rank: comm.rank, ranks: comm.size) {
                        seen += samples.map { ($0, trainer.example(at: $0).tokens) }
                    }
                }
                return seen
            }
            XCTAssertEqual(perRank.count, ranks)
            for (rank, seen) in perRank.enumerated() {
                XCTAssertEqual(seen.count, steps * batchSize / ranks, "\(ranks) ranks: rank \(rank)'s share of the samples")
            }
            return perRank.flatMap { $0 }.sorted { $0.sample < $1.sample }
        }
        let one = try batches(ranks: 1)
        XCTAssertEqual(one.map(\.sample), Array(0..<(steps * batchSize)))
        let replayed = one.filter { buffer.contains($0.tokens) }.count
        XCTAssertEqual(replayed, steps * batchSize / 2, "half of every batch comes from the buffer")
        for ranks in [2, 4] {
            let job = try batches(ranks: ranks)
            XCTAssertEqual(job.map(\.sample), one.map(\.sample), "\(ranks) ranks: every sample index exactly once")
            XCTAssertEqual(job.count, one.count)
            let differing = zip(job, one).filter { $0.tokens != $1.tokens }.map(\.0.sample)
            XCTAssertTrue(differing.isEmpty, "\(ranks) ranks: samples \(differing.prefix(5)) differ from 1 rank's")
        }
    }

    /// Four steps with replay on 1, 2 and 4 ranks: every rank of a job holds the 1-rank values bit for bit
    /// (the gradient sums are grouped differently, but in Double), and replay does change the run.
    func testTrainingWithReplayDoesNotDependOnTheRankCount() throws {
        func train(ranks: Int) throws -> [[Float]] {
            try InProcessWorld.run(ranks: ranks) { comm in
                let trainer = try self.replayTrainer(comm, batchSize: 4, steps: 4)
                for _ in 0..<4 { _ = try trainer.trainStep() }
                return trainer.adapters.parameters.values.storage.toArray()
            }
        }
        let one = try XCTUnwrap(train(ranks: 1).first)
        XCTAssertNil(comparabilityFailure(one, one), "empty or non-finite values after training")
        for ranks in [2, 4] {
            let job = try train(ranks: ranks)
            XCTAssertEqual(job.count, ranks)
            for (rank, values) in job.enumerated() {
                assertBitIdentical(values, one, "\(ranks) ranks: rank \(rank) vs 1 rank")
            }
        }
        // Replay changes the run: without it the values differ.
        XCTAssertNotNil(bitIdentityFailure(try trainWithout(), one))
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
