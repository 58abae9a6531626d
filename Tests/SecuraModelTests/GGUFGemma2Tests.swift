// A Gemma2 GGUF file as llama.cpp's converter writes it (make_gemma2_reference.py: norms stored as 1 + w,
// post_attention_norm / ffn_norm / post_ffw_norm names, no Q/K permutation, softcap and window keys)
// against the same model as a Hugging Face folder: same config, same tensors, same logits.
import Foundation
import SecuraIO
import TestSupport
import XCTest
@testable import SecuraModel

final class GGUFGemma2Tests: XCTestCase {
    let ggufPath = FixturePaths.fixture("gguf/tiny-gemma2-f32.gguf").path
    let folderPath = FixturePaths.fixture("tiny-gemma2").path

    func testConfigMatchesConfigJSON() throws {
        let a = try ModelLoader.open(folderPath).config, b = try ModelLoader.open(ggufPath).config
        XCTAssertEqual(b, a)
        XCTAssertEqual(b.architecture, .gemma2)
        XCTAssertEqual(b.attentionScale, 0.25)  // query_pre_attn_scalar 16, not head_dim 12
        XCTAssertEqual([b.attentionSoftcap, b.finalSoftcap], [2, 3])
        XCTAssertEqual(b.slidingWindow, 4)
        XCTAssertEqual(b.slidingLayers, [true, false, true])
        XCTAssertTrue(b.tieWordEmbeddings)
    }

    func testTensorsAreTheFoldersWithTheNormOffsetRemoved() throws {
        let folder = try ModelLoader.open(folderPath), gguf = try ModelLoader.open(ggufPath)
        XCTAssertEqual(Set(gguf.tensors.map(\.name)), Set(folder.tensors.map(\.name)))
        let model = try GGUFModel(path: ggufPath)
        for name in folder.tensors.map(\.name) {
            let ref = try folder.source.view(name).toFloatArray(), ours = try gguf.source.view(name).toFloatArray()
            if name.hasSuffix("norm.weight") {
                // Stored 1 + w (fp32); served fl(1 + w) − 1, which is exact, so 1 + served == stored.
                let stored = try model.file.floats(try XCTUnwrap(model.ggufNames[name]))
                XCTAssertEqual(stored, ref.map { 1 + $0 }, name)
                XCTAssertEqual(ours, ref.map { (1 + $0) - 1 }, name)
                XCTAssertEqual(ours.map { 1 + $0 }, stored, name)
            } else {
                XCTAssertEqual(ours, ref, name)
            }
        }
    }

    func testLogitsMatchTheFolderAndTransformers() throws {
        struct Ref: Decodable { let tokens: [[Int32]] }
        let dir = FixturePaths.fixture("tiny-gemma2")
        let tokens = try JSONDecoder().decode(Ref.self, from: Data(contentsOf: dir.appendingPathComponent("reference.json"))).tokens
        func logits(_ path: String) throws -> [Float] {
            let decoder = try ModelLoader.open(path).decoder()
            let batch = TokenBatch(tokens: tokens.flatMap { $0 }, batch: tokens.count, length: tokens[0].count)
            let acts = DecoderActivations(config: decoder.config, batch: batch.batch, length: batch.length)
            decoder.forward(batch, into: acts)
            return acts.logits.toArray()
        }
        let fromGGUF = try logits(ggufPath)
        assertAllClose(fromGGUF, try logits(folderPath), atol: 1e-5, rtol: 1e-5, "GGUF vs safetensors logits")
        let reference = try SafeTensorsFile(path: dir.appendingPathComponent("reference.safetensors").path)
        assertAllClose(fromGGUF, try reference.view("logits").toFloatArray(), atol: 1e-5, rtol: 1e-4,
                       "GGUF logits vs transformers reference")
    }

    /// Without the query_pre_attn_scalar key (the converter never writes it), the scale is llama.cpp's:
    /// head_dim^−½. The key's name is overwritten in a copy of the file with one of the same length.
    func testWithoutTheScalarKeyTheScaleIsHeadDims() throws {
        let dir = try TempDirectory(prefix: "gemma2-gguf")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: ggufPath)))
        let key = Array("gemma2.attention.query_pre_attn_scalar".utf8), other = Array("gemma2.attention.query_pre_attn_scalaX".utf8)
        let at = try XCTUnwrap((0...(bytes.count - key.count)).first { Array(bytes[$0..<($0 + key.count)]) == key })
        bytes.replaceSubrange(at..<(at + key.count), with: other)
        let c = try ModelLoader.open(try dir.write(bytes, to: "no-scalar.gguf")).config
        XCTAssertEqual(c.attentionScale, Float(1 / Double(12).squareRoot()))
        XCTAssertNotEqual(c.attentionScale, try ModelLoader.open(folderPath).config.attentionScale)
    }

    func testGemma2NameMapping() {
        let pairs = [
            ("blk.2.attn_norm.weight", "model.layers.2.input_layernorm.weight"),
            ("blk.2.post_attention_norm.weight", "model.layers.2.post_attention_layernorm.weight"),
            ("blk.2.ffn_norm.weight", "model.layers.2.pre_feedforward_layernorm.weight"),
            ("blk.2.post_ffw_norm.weight", "model.layers.2.post_feedforward_layernorm.weight"),
            ("blk.2.attn_q.weight", "model.layers.2.self_attn.q_proj.weight"),
        ]
        for (g, h) in pairs {
            XCTAssertEqual(GGUFTensorNames.huggingFace(g, architecture: .gemma2), h)
            XCTAssertEqual(GGUFTensorNames.gguf(h, architecture: .gemma2), g)
        }
        // Llama's ffn_norm is its post_attention_layernorm (the MLP input's norm).
        XCTAssertEqual(GGUFTensorNames.huggingFace("blk.2.ffn_norm.weight"), "model.layers.2.post_attention_layernorm.weight")
        XCTAssertNil(GGUFTensorNames.huggingFace("blk.2.post_ffw_norm.weight"))
    }
}
