// Activations made for a longer micro-batch, reused for a shorter one (`DecoderActivations.reuse`, as the
// trainer does when the data's lengths vary), against fresh activations: the same bits in the losses, the
// logits, the embedding-output gradient and every weight gradient.
import XCTest
import TestSupport
@testable import SecuraModel

final class ActivationReuseTests: XCTestCase {
    struct Pass {
        var losses: [Float]
        var logits: [Float]
        var dEmbedding: [Float]
        var gradients: [Float]
    }

    /// Forward and backward of `batch` through `acts` (a fresh gradient buffer each time).
    func pass(_ model: DecoderModel, _ batch: TokenBatch, _ acts: DecoderActivations) -> Pass {
        model.forward(batch, into: acts)
        let targets = batch.nextTokenTargets
        let (_, count) = model.crossEntropy(acts, targets: targets)
        let grads = ParameterBuffer(layout: model.parameterLayout)
        let dx = model.backward(batch, acts: acts, targets: targets, lossWeight: 1 / Float(count), gradients: grads)
        let n = batch.rows, v = model.config.vocabSize, c = model.config.hiddenSize
        return Pass(losses: Array(UnsafeBufferPointer(start: acts.losses.pointer, count: n)),
                    logits: Array(UnsafeBufferPointer(start: acts.logits.pointer, count: n * v)),
                    dEmbedding: Array(UnsafeBufferPointer(start: dx.pointer, count: n * c)),
                    gradients: Array(UnsafeBufferPointer(start: grads.storage.pointer, count: grads.storage.count)))
    }

    func check(_ type: String, tied: Bool) throws {
        let config = try DecoderGradientTests.tinyConfig(type, tied: tied)
        let model = try DecoderModel(config: config, source: InMemoryWeights.random(config: config, seed: 5))
        let long = TokenBatch(tokens: [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7], batch: 2, length: 7)
        let short = TokenBatch(tokens: [2, 7, 1, 8, 2, 8, 1, 8, 2, 8], batch: 2, length: 5)
        for mode in [DecoderActivations.Mode.stored, .recompute] {
            let reused = DecoderActivations(config: config, batch: 2, length: 7, mode: mode)
            _ = pass(model, long, reused)        // leaves the longer batch's values in every buffer
            XCTAssertFalse(reused.reuse(batch: 2, length: 8), "longer than the buffers")
            XCTAssertFalse(reused.reuse(batch: 3, length: 5), "another batch size")
            XCTAssertEqual(reused.length, 7, "a refused reuse changes nothing")
            XCTAssertTrue(reused.reuse(batch: 2, length: 5))
            XCTAssertEqual(reused.rows, 10)
            let a = pass(model, short, reused)
            let b = pass(model, short, DecoderActivations(config: config, batch: 2, length: 5, mode: mode))
            let label = "\(type) \(mode)"
            XCTAssertTrue(a.gradients.contains { $0 != 0 }, "\(label): the gradients are not all zero")
            XCTAssertEqual(a.losses.map(\.bitPattern), b.losses.map(\.bitPattern), "\(label) losses")
            XCTAssertEqual(a.logits.map(\.bitPattern), b.logits.map(\.bitPattern), "\(label) logits")
            XCTAssertEqual(a.dEmbedding.map(\.bitPattern), b.dEmbedding.map(\.bitPattern), "\(label) d(embedding)")
            XCTAssertEqual(a.gradients.map(\.bitPattern), b.gradients.map(\.bitPattern), "\(label) gradients")
            // Back up to the full length: the buffers were made for it.
            XCTAssertTrue(reused.reuse(batch: 2, length: 7))
            let c = pass(model, long, reused)
            let d = pass(model, long, DecoderActivations(config: config, batch: 2, length: 7, mode: mode))
            XCTAssertEqual(c.gradients.map(\.bitPattern), d.gradients.map(\.bitPattern), "\(label) full length again")
        }
    }

    func testLlamaReuseGivesFreshBits() throws { try check("llama", tied: false) }
    func testGemma2ReuseGivesFreshBits() throws { try check("gemma2", tied: true) }
}
