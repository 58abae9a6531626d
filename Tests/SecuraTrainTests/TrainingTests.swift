// Training on the tiny fixture model: every method lowers the loss, SECURA-M1 with fusion-step 1 moves
// only B (A's gradient is exactly zero), and a resumed run is bit-identical to an uninterrupted one.
import Foundation
import XCTest
import SecuraAdapters
import SecuraDistributed
import SecuraModel
import TestSupport
@testable import SecuraTrain

/// A plain LAPACK-free SVD for tests: CABR is initialised with the slice identity here.
struct NoSVD: SVDSolver {
    func svd(rows: Int, columns: Int, parts: SVDParts, fill: MatrixRowFill) throws -> SVDResult {
        throw SVDError.unsupported("tests use --cabr-init slice")
    }
}

final class TrainingTests: XCTestCase {
    /// 24 examples over the tiny vocabulary: a prompt of 5 random tokens, then an answer that repeats
    /// them reversed; only the answer is scored.
    static func examples(seed: UInt64, count: Int = 24) -> [TrainingExample] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { _ in
            let prompt = (0..<5).map { _ in Int32(rng.next() % 200) + 10 }
            let tokens = [1] + prompt + [2] + prompt.reversed()
            let mask = tokens.indices.map { $0 > 6 }
            return TrainingExample(tokens: tokens, lossMask: mask)
        }
    }

    static func makeTrainer(_ method: AdapterMethod, steps: Int = 12, lr: Double = 5e-3, batch: Int = 4,
                            configure: (inout MethodSettings) -> Void = { _ in }) throws -> Trainer {
        let loaded = try ModelLoader.open(FixturePaths.fixture("tiny-llama").path)
        var s = MethodSettings()
        s.method = method
        s.cabrInit = .slice
        s.curRank = 16
        s.cabrM = 20
        s.rank = 4
        s.alpha = 8
        s.dropout = 0.1
        configure(&s)
        let adapters = try AdapterSet(config: loaded.config, base: loaded.source, settings: s, seed: 3, solver: NoSVD())
        var o = TrainingOptions()
        o.steps = steps
        o.batchSize = batch
        o.microBatch = 2
        o.schedule = LRSchedule(kind: .constant, base: lr, warmup: 0, total: steps)
        return try Trainer(adapters: adapters, options: o, comm: SingleProcessCommunicator(),
                           train: examples(seed: 1), validation: Array(examples(seed: 1).prefix(8)))
    }

    func testEveryMethodLowersTheLoss() throws {
        for method in AdapterMethod.allCases {
            // CABR-family adapters move only B between merges: they need a larger step to show in 12 steps.
            let lr = method == .full ? 1e-3 : method.definition.usesCABRInit || method == .curLoRA ? 5e-2 : 1e-2
            let trainer = try Self.makeTrainer(method, lr: lr)
            let before = try XCTUnwrap(trainer.validationLoss())
            var losses: [Double] = []
            for _ in 0..<12 { losses.append(try trainer.trainStep().loss) }
            let after = try XCTUnwrap(trainer.validationLoss())
            XCTAssertLessThan(after, before, "\(method.rawValue): validation loss \(before) → \(after)")
            XCTAssertLessThan(losses.suffix(3).reduce(0, +), losses.prefix(3).reduce(0, +),
                              "\(method.rawValue): training losses \(losses)")
        }
    }

    func testSecuraM1WithFusionStepOneMovesOnlyB() throws {
        let trainer = try Self.makeTrainer(.securaM1)
        let a = trainer.adapters
        let before = a.cabr.mapValues { $0.values.a }
        let mastersBefore = a.masters.mapValues { $0.toArray() }
        for _ in 0..<3 {
            _ = try trainer.trainStep()
            for (site, d) in a.cabr {
                let names = CABRDelta.names(site)
                XCTAssertTrue(a.parameters.gradients.values(names.a)!.allSatisfy { $0 == 0 }, "A's gradient must be exactly zero")
                XCTAssertTrue(d.values.b.allSatisfy { $0 == 0 }, "B is reset by every merge")
            }
        }
        for (site, d) in a.cabr {
            // Weight decay scales A, but its gradient is zero: A only shrinks by (1 − lr·wd) per step.
            let lr = trainer.options.schedule.base
            let decay = Float(pow(1 - lr * 0.01, 3.0))
            assertAllClose(d.values.a, before[site]!.map { $0 * decay }, atol: 1e-7, rtol: 1e-6, "A of \(site)")
            XCTAssertNotEqual(a.masters[site]!.toArray(), mastersBefore[site]!, "the merge changes W")
        }
    }

    /// Every method: resuming from a checkpoint after 3 of 6 steps reaches the uninterrupted run's state,
    /// compared over everything the run persists (RunStateLayout: values, both AdamW moments, I-LoRA's EMA
    /// copy, SECURA-M2's long-term pairs, SECURA-M1's merged masters).
    func testResumeIsBitIdentical() throws {
        for method in AdapterMethod.allCases {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("resume-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: dir) }
            let straight = try Self.makeTrainer(method, steps: 6)
            for _ in 0..<6 { _ = try straight.trainStep() }

            let first = try Self.makeTrainer(method, steps: 6)
            for _ in 0..<3 { _ = try first.trainStep() }
            XCTAssertFalse(runStateDifferences(first, straight).isEmpty, "\(method.rawValue): 3 steps differ from 6 (else the comparison proves nothing)")
            try Checkpoint.save(first, modelPath: "tiny-llama", to: dir.appendingPathComponent(Checkpoint.name(step: 3)), optimizer: true)
            let resumed = try Self.makeTrainer(method, steps: 6)
            try resumed.resume(from: XCTUnwrap(Checkpoint.latest(in: dir)))
            XCTAssertEqual(resumed.step, 3)
            for _ in 3..<6 { _ = try resumed.trainStep() }
            assertSameRunState(resumed, straight, method.rawValue)
        }
    }

    /// The run-state comparison sees a change in each kind of persisted tensor, and SECURA-M2's long-term
    /// pair and I-LoRA's copy are in the layout.
    func testRunStateComparisonCatchesEveryKind() throws {
        for method in [AdapterMethod.securaM1, .securaM2, .iLoRA] {
            let a = try Self.makeTrainer(method, steps: 2), b = try Self.makeTrainer(method, steps: 2)
            for _ in 0..<2 { _ = try a.trainStep(); _ = try b.trainStep() }
            XCTAssertEqual(runStateDifferences(a, b), [], "\(method.rawValue): two equal runs")
            let layout = RunStateLayout(b.adapters, optimizer: b.optimizer)
            let kinds: [RunStateLayout.Kind] = [.trainable, .adamFirstMoment, .adamSecondMoment, method == .securaM1 ? .master : .method]
            for kind in kinds {
                let e = try XCTUnwrap(layout.entries.last { $0.kind == kind }, "\(method.rawValue) persists a \(kind) tensor")
                let saved = e.pointer[e.count - 1]
                e.pointer[e.count - 1] = saved.nextUp
                XCTAssertEqual(runStateDifferences(a, b).count, 1, "\(method.rawValue): a changed \(kind) tensor (\(e.name)) is seen")
                e.pointer[e.count - 1] = saved
            }
        }
    }

    func testLearningRateSchedulesMatchTransformers() throws {
        struct Schedules: Decodable { let base_lr: Double; let num_warmup_steps: Int; let num_training_steps: Int; let lr: [String: [Double]] }
        let s = try JSONDecoder().decode(Schedules.self, from: Data(contentsOf: FixturePaths.fixture("peft/schedules.json")))
        let kinds: [(String, LRScheduleKind)] = [("constant_with_warmup", .constant), ("linear", .linear), ("cosine", .cosine)]
        for (name, kind) in kinds {
            let schedule = LRSchedule(kind: kind, base: s.base_lr, warmup: s.num_warmup_steps, total: s.num_training_steps)
            let expected = try XCTUnwrap(s.lr[name])
            for (k, lr) in expected.enumerated() {
                XCTAssertEqual(schedule.lr(at: k), lr, accuracy: 1e-15, "\(name) step \(k)")
            }
        }
    }

    func testSamplerDealsTheGlobalBatchIndependentlyOfRanks() throws {
        let one = try DataOrder.microBatches(step: 3, batchSize: 8, microBatch: 3, rank: 0, ranks: 1)
        let two = try (0..<2).flatMap { try DataOrder.microBatches(step: 3, batchSize: 8, microBatch: 3, rank: $0, ranks: 2) }
        XCTAssertEqual(Set(one), Set(two), "the same micro-batches whatever the rank count")
        XCTAssertEqual(one, [Array(24..<27), Array(27..<30), Array(30..<32)])
        let order = DataOrder(count: 10, seed: 7)
        XCTAssertEqual(Set((0..<10).map(order.example(at:))), Set(0..<10), "each epoch is a permutation")
    }
}
