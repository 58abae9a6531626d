// The decoder against PyTorch/transformers reference dumps (Tests/Fixtures, made by make_reference.py):
// logits, per-position losses, final hidden states, the mean loss and the gradient of every weight.
import Foundation
import XCTest
import SecuraIO
import TestSupport
@testable import SecuraModel

final class ReferenceModelTests: XCTestCase {
    struct ReferenceJSON: Decodable {
        let tokens: [[Int32]]
        let loss: Double
    }

    struct Run {
        let decoder: DecoderModel
        let reference: SafeTensorsFile
        let expectedLoss: Double
        let loss: Double
        let acts: DecoderActivations
        let grads: ParameterBuffer
    }

    func run(_ folder: String) throws -> Run {
        let dir = FixturePaths.fixture(folder)
        let loaded = try ModelLoader.open(dir.path)
        let decoder = try loaded.decoder()
        let json = try JSONDecoder().decode(ReferenceJSON.self,
                                            from: Data(contentsOf: dir.appendingPathComponent("reference.json")))
        let reference = try SafeTensorsFile(path: dir.appendingPathComponent("reference.safetensors").path)
        let t = json.tokens[0].count
        let batch = TokenBatch(tokens: json.tokens.flatMap { $0 }, batch: json.tokens.count, length: t)
        let acts = DecoderActivations(config: decoder.config, batch: batch.batch, length: t)
        decoder.forward(batch, into: acts)
        let targets = batch.nextTokenTargets
        let (sum, count) = decoder.crossEntropy(acts, targets: targets)
        let grads = ParameterBuffer(layout: decoder.parameterLayout)
        decoder.backward(batch, acts: acts, targets: targets, lossWeight: 1 / Float(count), gradients: grads)
        return Run(decoder: decoder, reference: reference, expectedLoss: json.loss, loss: sum / Double(count),
                   acts: acts, grads: grads)
    }

    func checkForward(_ r: Run, _ folder: String) throws {
        assertAllClose(r.acts.logits.toArray(), try r.reference.view("logits").toFloatArray(),
                       atol: 1e-5, rtol: 1e-4, "\(folder) logits")
        assertAllClose(r.acts.finalHidden.toArray(), try r.reference.view("hidden.final").toFloatArray(),
                       atol: 1e-5, rtol: 1e-4, "\(folder) final hidden")
        // Per-position losses: reference is [B, T−1]; ours is [B·T] with the last row of each sequence unused.
        let t = r.acts.length
        let ours = (0..<r.acts.batch).flatMap { b in (0..<(t - 1)).map { r.acts.losses.pointer[b * t + $0] } }
        assertAllClose(ours, try r.reference.view("losses").toFloatArray(), atol: 1e-5, rtol: 1e-4, "\(folder) losses")
        XCTAssertLessThanOrEqual(abs(r.loss - r.expectedLoss), 1e-5 + 1e-4 * abs(r.expectedLoss), "\(folder) loss")
    }

    func checkGradients(_ r: Run, _ folder: String) throws {
        let expected = r.reference.names.filter { $0.hasPrefix("grad.") }
        XCTAssertEqual(Set(expected.map { String($0.dropFirst(5)) }), Set(r.grads.layout.entries.map(\.name)),
                       "\(folder): gradient names")
        for name in expected {
            let param = String(name.dropFirst(5))
            guard let ours = r.grads.values(param) else { continue }
            assertAllClose(ours, try r.reference.view(name).toFloatArray(), atol: 1e-4, rtol: 1e-3, "\(folder) \(name)")
        }
    }

    func testTinyLlamaMatchesTransformers() throws {
        let r = try run("tiny-llama")
        try checkForward(r, "tiny-llama")
        try checkGradients(r, "tiny-llama")
    }

    func testTinyQwen2TiedMatchesTransformers() throws {
        let r = try run("tiny-qwen2")
        try checkForward(r, "tiny-qwen2")
        try checkGradients(r, "tiny-qwen2")
    }

    /// Gemma2 (make_gemma2_reference.py): sliding and global layers, soft-capping, head_dim ≠ C/H,
    /// query_pre_attn_scalar ≠ head_dim, tied head; the same tolerances as Llama and Qwen2.
    func testTinyGemma2MatchesTransformers() throws {
        let r = try run("tiny-gemma2")
        XCTAssertEqual(r.decoder.config.slidingLayers, [true, false, true])
        try checkForward(r, "tiny-gemma2")
        try checkGradients(r, "tiny-gemma2")
    }

    func testShardedBF16MatchesTransformers() throws {
        try checkForward(try run("tiny-llama-bf16-sharded"), "tiny-llama-bf16-sharded")
    }

    func testF16MatchesTransformers() throws {
        try checkForward(try run("tiny-qwen2-f16"), "tiny-qwen2-f16")
    }
}
