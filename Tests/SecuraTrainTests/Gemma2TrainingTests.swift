// Every method trains on the tiny Gemma2 fixture (sliding and global layers, soft-capping, (1 + w) norms):
// the adapters attach to the same seven projections as on Llama, so this is the whole Gemma2 hook.
import Foundation
import XCTest
import SecuraAdapters
import SecuraDistributed
import SecuraModel
import TestSupport
@testable import SecuraTrain

final class Gemma2TrainingTests: XCTestCase {
    /// TrainingTests' reversal task over tiny-gemma2's 64-token vocabulary, 12 tokens (window 4 < 12).
    static func examples(seed: UInt64, count: Int = 24) -> [TrainingExample] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { _ in
            let prompt = (0..<5).map { _ in Int32(rng.next() % 60) + 3 }
            let tokens = [1] + prompt + [2] + prompt.reversed()
            return TrainingExample(tokens: tokens, lossMask: tokens.indices.map { $0 > 6 })
        }
    }

    func testEveryMethodLowersTheLoss() throws {
        let loaded = try ModelLoader.open(FixturePaths.fixture("tiny-gemma2").path)
        XCTAssertEqual(loaded.config.architecture, .gemma2)
        for method in AdapterMethod.allCases {
            var s = MethodSettings()
            s.method = method
            s.cabrInit = .slice
            s.curRank = 8
            s.cabrM = 10
            s.rank = 4
            s.alpha = 8
            s.dropout = 0.1
            let adapters = try AdapterSet(config: loaded.config, base: loaded.source, settings: s, seed: 3, solver: NoSVD())
            let lr = method == .full ? 1e-3 : [.cabrLoRA, .securaM1, .securaM2, .curLoRA].contains(method) ? 5e-2 : 1e-2
            var o = TrainingOptions()
            o.steps = 12
            o.batchSize = 4
            o.microBatch = 2
            o.schedule = LRSchedule(kind: .constant, base: lr, warmup: 0, total: 12)
            let trainer = try Trainer(adapters: adapters, options: o, comm: SingleProcessCommunicator(),
                                      train: Self.examples(seed: 1), validation: Array(Self.examples(seed: 1).prefix(8)))
            let before = try XCTUnwrap(trainer.validationLoss())
            var losses: [Double] = []
            for _ in 0..<12 { losses.append(try trainer.trainStep().loss) }
            let after = try XCTUnwrap(trainer.validationLoss())
            XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(method.rawValue): \(losses)")
            XCTAssertLessThan(after, before, "\(method.rawValue): validation loss \(before) → \(after)")
        }
    }

    /// `--recompute` re-runs each Gemma2 layer (post-norm inputs, windowed probabilities) before its backward:
    /// the gradients are the stored activations' gradients bit for bit.
    func testRecomputedGradientsAreBitIdentical() throws {
        let decoder = try ModelLoader.open(FixturePaths.fixture("tiny-gemma2").path).decoder()
        let batch = TokenBatch(tokens: Self.examples(seed: 5, count: 2).flatMap(\.tokens), batch: 2, length: 12)
        func gradients(_ mode: DecoderActivations.Mode) -> [Float] {
            let acts = DecoderActivations(config: decoder.config, batch: 2, length: 12, mode: mode)
            decoder.forward(batch, into: acts, training: true)
            let targets = batch.nextTokenTargets
            let (_, count) = decoder.crossEntropy(acts, targets: targets)
            let grads = ParameterBuffer(layout: decoder.parameterLayout)
            decoder.backward(batch, acts: acts, targets: targets, lossWeight: 1 / Float(count), gradients: grads)
            return decoder.parameterLayout.entries.flatMap { grads.values($0.name)! }
        }
        XCTAssertEqual(gradients(.recompute).map(\.bitPattern), gradients(.stored).map(\.bitPattern))
    }
}
