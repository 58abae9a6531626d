// EWC: the penalty's gradient against finite differences, the Fisher diagonal against squared finite-difference
// gradients of each example's loss, the same Fisher on 1 and 2 ranks, and the penalty in a training step.
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

    func testFisherDoesNotDependOnTheRankCount() throws {
        let examples = Array(TrainingTests.examples(seed: 9).prefix(5))
        var byRanks: [Int: [[Float]]] = [:]
        for ranks in [1, 2] {
            var results = [[Float]](repeating: [], count: ranks)
            let lock = NSLock()
            try InProcessWorld.run(ranks: ranks) { comm in
                let f = try self.trainer(comm).fisherDiagonal(examples)
                lock.lock(); results[comm.rank] = f; lock.unlock()
            }
            byRanks[ranks] = results
        }
        let one = try XCTUnwrap(byRanks[1]?[0]), two = try XCTUnwrap(byRanks[2])
        XCTAssertEqual(two[0], two[1], "the ranks of one job hold the same estimate")
        XCTAssertEqual(one.count, two[0].count)
        XCTAssertFalse(one.isEmpty)
        let scale = Double(one.max() ?? 1)
        for (a, b) in zip(one, two[0]) { XCTAssertEqual(Double(a), Double(b), accuracy: 1e-6 * scale) }
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
