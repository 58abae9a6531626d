// A NaN or Inf that appears on one rank only: every rank must take the same --on-nan decision at the same
// step (skip: all skip and stay bit-identical; abort: all throw at that step, none waits in a collective).
// Faults are injected through the trainer's test hooks on 2 in-process ranks, before the gradient
// all-reduce (a local gradient or loss) and after it (a value that goes bad on one rank only).
import Foundation
import XCTest
import SecuraAdapters
import SecuraDistributed
import SecuraModel
import TestSupport
@testable import SecuraTrain

final class NonFiniteStepTests: XCTestCase {
    /// What one rank saw: the steps it skipped, its final persisted state, or the error that ended it.
    struct Outcome {
        var skippedAt: [Int] = []
        var skippedSteps = 0
        var state: [Float] = []
        var error: String?
    }

    enum Fault { case gradientBeforeReduce, lossBeforeReduce, gradientAfterReduce }

    /// Trains LoRA for 4 steps on 2 ranks, injecting `fault` on `rank` at step `step` (0-based).
    static func run(_ fault: Fault, rank: Int, step: Int, policy: NaNPolicy) throws -> [Outcome] {
        var outcomes = [Outcome](repeating: Outcome(), count: 2)
        let lock = NSLock()
        try InProcessWorld.run(ranks: 2) { comm in
            let loaded = try ModelLoader.open(FixturePaths.fixture("tiny-llama").path)
            var s = MethodSettings()
            s.method = .lora
            s.rank = 4
            let adapters = try AdapterSet(config: loaded.config, base: loaded.source, settings: s, seed: 3, solver: NoSVD(),
                                          comm: comm)
            var o = TrainingOptions()
            o.batchSize = 4
            o.microBatch = 1
            o.onNaN = policy
            o.schedule = LRSchedule(kind: .constant, base: 1e-2, warmup: 0, total: 4)
            let trainer = try Trainer(adapters: adapters, options: o, comm: comm,
                                      train: TrainingTests.examples(seed: 1), validation: [])
            if comm.rank == rank {
                switch fault {
                case .gradientBeforeReduce: trainer.beforeGradientReduce = { if $0 == step { $1[0] = .nan } }
                case .lossBeforeReduce: trainer.beforeGradientReduce = { if $0 == step { $1[$1.count - 2] = .infinity } }
                case .gradientAfterReduce: trainer.afterGradientReduce = { if $0 == step { $1[0] = .nan } }
                }
            }
            var outcome = Outcome()
            do {
                for _ in 0..<4 {
                    let report = try trainer.trainStep()
                    if report.skipped { outcome.skippedAt.append(report.step - 1) }
                }
                try trainer.checkConsistency()
            } catch {
                outcome.error = "\(error)"
            }
            outcome.skippedSteps = trainer.skippedSteps
            outcome.state = RunStateLayout(adapters, optimizer: trainer.optimizer).entries.flatMap { $0.toArray() }
            lock.lock(); outcomes[comm.rank] = outcome; lock.unlock()
        }
        return outcomes
    }

    func testSkipIsTakenByEveryRankAtTheSameStep() throws {
        for (fault, rank, step) in [(Fault.gradientBeforeReduce, 1, 1), (.lossBeforeReduce, 1, 2), (.gradientAfterReduce, 1, 2),
                                    (.gradientAfterReduce, 0, 0)] {
            let label = "\(fault) on rank \(rank) at step \(step)"
            let o = try Self.run(fault, rank: rank, step: step, policy: .skip)
            for r in 0..<2 {
                XCTAssertNil(o[r].error, "\(label): rank \(r)")
                XCTAssertEqual(o[r].skippedAt, [step], "\(label): rank \(r) skipped steps")
                XCTAssertEqual(o[r].skippedSteps, 1, "\(label): rank \(r)")
            }
            assertBitIdentical(o[1].state, o[0].state, "\(label): rank 1 vs rank 0 after the skip")
        }
    }

    func testAbortStopsEveryRankAtTheSameStep() throws {
        for (fault, rank) in [(Fault.gradientBeforeReduce, 0), (.gradientAfterReduce, 1), (.lossBeforeReduce, 0)] {
            let o = try Self.run(fault, rank: rank, step: 2, policy: .abort)
            for r in 0..<2 {
                let error = o[r].error ?? "no error"
                XCTAssertTrue(error.hasPrefix("step 2: the loss or the reduced gradients are NaN or Inf"),
                              "\(fault) on rank \(rank): rank \(r) ended with: \(error)")
            }
        }
    }

    /// The hooks really inject: without a fault nothing is skipped (so the tests above see the fault).
    func testNoFaultNoSkip() throws {
        let o = try Self.run(.gradientAfterReduce, rank: 0, step: 99, policy: .abort)
        XCTAssertEqual(o.map(\.skippedSteps), [0, 0])
        XCTAssertEqual(o.map(\.error), [nil, nil])
        assertBitIdentical(o[1].state, o[0].state, "rank 1 vs rank 0")
    }
}
