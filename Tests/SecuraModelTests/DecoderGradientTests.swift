// The whole decoder's backward pass against finite differences of its loss, on a tiny random model
// of each family (GQA, biases, tied and untied heads, llama3 rope scaling; Gemma2's (1 + w) sandwich norms,
// √C embedding scale, GeGLU, soft-capped scores and logits, and a sliding window shorter than the sequence).
import XCTest
import TestSupport
@testable import SecuraModel

final class DecoderGradientTests: XCTestCase {
    static func tinyConfig(_ type: String, tied: Bool) throws -> DecoderConfig {
        var raw = ModelConfig()
        raw.model_type = type
        raw.hidden_size = 8
        raw.intermediate_size = 12
        raw.num_hidden_layers = 2
        raw.num_attention_heads = 4
        raw.num_key_value_heads = 2
        raw.head_dim = 6
        raw.vocab_size = 11
        raw.rms_norm_eps = 1e-5
        raw.tie_word_embeddings = tied
        if type == "gemma2" {
            // Caps small enough that tanh is far from linear; window 2 < T = 5; layer 0 slides, layer 1 not.
            raw.query_pre_attn_scalar = 5
            raw.attn_logit_softcapping = 1.5
            raw.final_logit_softcapping = 2
            raw.sliding_window = 2
        }
        if type == "llama" {
            raw.rope_scaling = RopeParameters(rope_type: "llama3", factor: 4, low_freq_factor: 1,
                                              high_freq_factor: 4, original_max_position_embeddings: 16)
            raw.attention_bias = true
            raw.mlp_bias = true
        }
        return try DecoderConfig(raw, path: "test config")
    }

    func lossAndGradients(_ model: DecoderModel, _ batch: TokenBatch) -> (Double, ParameterBuffer) {
        let acts = DecoderActivations(config: model.config, batch: batch.batch, length: batch.length)
        model.forward(batch, into: acts)
        let targets = batch.nextTokenTargets
        let (sum, count) = model.crossEntropy(acts, targets: targets)
        let grads = ParameterBuffer(layout: model.parameterLayout)
        model.backward(batch, acts: acts, targets: targets, lossWeight: 1 / Float(count), gradients: grads)
        return (sum / Double(count), grads)
    }

    func check(_ type: String, tied: Bool) throws {
        let config = try Self.tinyConfig(type, tied: tied)
        let source = InMemoryWeights.random(config: config, seed: 11)
        let batch = TokenBatch(tokens: [1, 4, 9, 2, 2, 7, 0, 3, 10, 5], batch: 2, length: 5)
        let model = try DecoderModel(config: config, source: source)
        let (_, grads) = lossAndGradients(model, batch)
        for entry in grads.layout.entries {
            let buffer = try XCTUnwrap(source.buffer(entry.name))
            var values = buffer.toArray()
            let analytic = grads.values(entry.name)!
            // Every element of small tensors; a spread sample of the larger ones.
            let stride = max(1, values.count / 24)
            let indices = Array(Swift.stride(from: 0, to: values.count, by: stride))
            assertGradientMatchesFiniteDifferences("\(type) \(entry.name)", values: &values, analytic: analytic,
                                                   indices: indices, step: 1e-2) { v in
                buffer.pointer.update(from: v, count: v.count)
                let m = try! DecoderModel(config: config, source: source)
                let acts = DecoderActivations(config: config, batch: batch.batch, length: batch.length)
                m.forward(batch, into: acts)
                let (sum, count) = m.crossEntropy(acts, targets: batch.nextTokenTargets)
                return sum / Double(count)
            }
            buffer.pointer.update(from: values, count: values.count)
        }
    }

    func testLlamaGradientsMatchFiniteDifferences() throws { try check("llama", tied: false) }
    func testQwen2TiedGradientsMatchFiniteDifferences() throws { try check("qwen2", tied: true) }
    func testGemma2GradientsMatchFiniteDifferences() throws {
        let c = try Self.tinyConfig("gemma2", tied: true)
        XCTAssertEqual(c.slidingLayers, [true, false])
        try check("gemma2", tied: true)
    }

    func testTiedHeadHasNoSeparateParameter() throws {
        let config = try Self.tinyConfig("qwen2", tied: true)
        let model = try DecoderModel(config: config, source: InMemoryWeights.random(config: config, seed: 1))
        XCTAssertNil(model.parameterLayout.entry(ParameterName.outputHead))
    }
}
