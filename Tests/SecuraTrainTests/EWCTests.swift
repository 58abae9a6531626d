// EWC: the penalty's gradient against finite differences, the Fisher diagonal against squared finite-difference
// gradients of each example's loss, the same Fisher on 1, 2 and 4 ranks, and the penalty in a training step.
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraTensor
import SecuraModel
import TestSupport
@testable import SecuraTrain
import XCTest

final class EWCTests: XCTestCase {
    func testPenaltyGradientMatchesFiniteDifferences() {
        var rng = SeededRandom(seed: 5)
        let n = 50
        let values = (0..<n).map { _ in Float(rng.uniform() - 0.5) }
        let penalty = EWCPenalty(lambda: 3.5, fisher: (0..<n).map { _ in Float(rng.uniform()) },
                                 anchor: (0..<n).map { _ in Float(rng.uniform() - 0.5) })
        var gradients = [Float](repeating: 0.25, count: n)
        let value = values.withUnsafeBufferPointer { v in
            gradients.withUnsafeMutableBufferPointer { penalty.apply(values: v.baseAddress!, gradients: $0.baseAddress!, count: n) }
        }
        XCTAssertEqual(value, values.withUnsafeBufferPointer { penalty.value($0.baseAddress!, count: n) })
        let h: Float = 1e-2
        for i in 0..<n {
            var up = values, down = values
            up[i] += h
            down[i] -= h
            let numeric = (up.withUnsafeBufferPointer { penalty.value($0.baseAddress!, count: n) }
                           - down.withUnsafeBufferPointer { penalty.value($0.baseAddress!, count: n) }) / Double(up[i] - down[i])
            let analytic = Double(gradients[i]) - 0.25
            XCTAssertTrue(numeric.isFinite && analytic.isFinite, "coordinate \(i)")
            XCTAssertEqual(analytic, numeric, accuracy: 1e-4 * max(1, abs(numeric)), "coordinate \(i)")
        }
    }

    /// Full fine-tuning of the tiny Llama (q_proj only) on `comm`.
    func trainer(_ comm: Communicator) throws -> Trainer {
        let loaded = try ModelLoader.open(FixturePaths.fixture("tiny-llama").path)
        var s = MethodSettings()
        s.method = .full
        s.targets = [.q]
        let adapters = try AdapterSet(config: loaded.config, base: loaded.source, settings: s, seed: 3, solver: NoSVD(), comm: comm)
        var o = TrainingOptions()
        o.batchSize = 4
        o.schedule = LRSchedule(kind: .constant, base: 1e-2, warmup: 0, total: 2)
        return try Trainer(adapters: adapters, options: o, comm: comm, train: TrainingTests.examples(seed: 1), validation: [])
    }

    func testFisherMatchesSquaredFiniteDifferenceGradients() throws {
        let t = try trainer(SingleProcessCommunicator())
        let examples = Array(TrainingTests.examples(seed: 9).prefix(3))
        let fisher = try t.fisherDiagonal(examples)
        XCTAssertEqual(fisher.count, t.adapters.parameters.count)
        XCTAssertTrue(fisher.allSatisfy { $0.isFinite && $0 >= 0 })
        let values = t.adapters.parameters.values.storage.pointer
        // The coordinates with the largest estimates, where finite differences are well above rounding.
        let top = fisher.indices.sorted { fisher[$0] > fisher[$1] }.prefix(4)
        let h: Float = 2e-3
        for i in top {
            var squares = 0.0
            for e in examples {
                let saved = values[i]
                values[i] = saved + h
                let up = try XCTUnwrap(t.validationLoss([e]))
                values[i] = saved - h
                let down = try XCTUnwrap(t.validationLoss([e]))
                values[i] = saved
                let g = (up - down) / Double(2 * h)
                squares += g * g
            }
            let direct = squares / Double(examples.count)
            XCTAssertEqual(Double(fisher[i]), direct, accuracy: 0.05 * direct, "coordinate \(i)")
        }
    }

    /// The Fisher estimate of every rank of a job on `ranks` in-process ranks, in rank order.
    func fisherOnEveryRank(ranks: Int, _ examples: [TrainingExample]) throws -> [[Float]] {
        try InProcessWorld.run(ranks: ranks) { comm in try self.trainer(comm).fisherDiagonal(examples) }
    }

    /// 1, 2 and 4 ranks give the same Fisher values bit for bit (the squares are summed in Double and
    /// all-reduced once), and every rank of a job holds them. 5 examples are dealt 3+2 and 2+1+1+1; with 3
    /// examples the fourth rank has none.
    func testFisherDoesNotDependOnTheRankCount() throws {
        let parameters = try trainer(SingleProcessCommunicator()).adapters.parameters.count
        for count in [5, 3] {
            let examples = Array(TrainingTests.examples(seed: 9).prefix(count))
            let one = try XCTUnwrap(fisherOnEveryRank(ranks: 1, examples).first)
            XCTAssertEqual(one.count, parameters, "\(count) examples: one value per trainable value")
            XCTAssertNil(comparabilityFailure(one, one), "\(count) examples: empty or non-finite estimate")
            XCTAssertGreaterThan(one.filter { $0 > 0 }.count, parameters / 2, "\(count) examples: mostly zero, nothing to compare")
            for ranks in [2, 4] {
                let job = try fisherOnEveryRank(ranks: ranks, examples)
                XCTAssertEqual(job.count, ranks)
                for (rank, values) in job.enumerated() {
                    assertBitIdentical(values, one, "\(count) examples, rank \(rank) of \(ranks) vs 1 rank")
                }
            }
        }
    }

    func testPenaltyPullsTrainingTowardTheAnchor() throws {
        let free = try trainer(SingleProcessCommunicator()), held = try trainer(SingleProcessCommunicator())
        let params = held.adapters.parameters
        let anchor = Array(UnsafeBufferPointer(start: params.values.storage.pointer, count: params.count))
        held.ewcPenalty = EWCPenalty(lambda: 1e6, fisher: [Float](repeating: 1, count: params.count), anchor: anchor)
        for _ in 0..<2 {
            _ = try free.trainStep()
            _ = try held.trainStep()
        }
        func distance(_ t: Trainer) -> Double {
            let p = t.adapters.parameters
            return (0..<p.count).reduce(0) { $0 + Double(abs(p.values.storage.pointer[$1] - anchor[$1])) }
        }
        XCTAssertGreaterThan(distance(free), 0)
        XCTAssertLessThan(distance(held), distance(free))
    }
}
