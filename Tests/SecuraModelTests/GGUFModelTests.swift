// GGUF models against the same models as Hugging Face safetensors folders: tiny-llama and tiny-qwen2
// written by make_gguf_reference.py the way llama.cpp's converter writes them (Llama q/k permuted for
// interleaved RoPE, llama3 scaling as rope_freqs.weight). Same config, same weights tensor for tensor,
// same logits through DecoderModel.

import Foundation
import SecuraIO
import TestSupport
import XCTest
@testable import SecuraModel

final class GGUFModelTests: XCTestCase {
    func gguf(_ name: String) -> String { FixturePaths.fixture("gguf/\(name)").path }

    struct Pair {
        let folder: LoadedModel
        let gguf: LoadedModel
    }

    func open(_ folder: String, _ file: String) throws -> Pair {
        Pair(folder: try ModelLoader.open(FixturePaths.fixture(folder).path), gguf: try ModelLoader.open(gguf(file)))
    }

    func checkSameModel(_ p: Pair, _ label: String) throws {
        let a = p.folder.config, b = p.gguf.config
        XCTAssertEqual(b.architecture, a.architecture, label)
        XCTAssertEqual([b.hiddenSize, b.intermediateSize, b.layers, b.heads, b.kvHeads, b.headDim, b.vocabSize, b.maxPositions],
                       [a.hiddenSize, a.intermediateSize, a.layers, a.heads, a.kvHeads, a.headDim, a.vocabSize, a.maxPositions], label)
        XCTAssertEqual(b.rmsNormEps, a.rmsNormEps, label)
        XCTAssertEqual(b.ropeTheta, a.ropeTheta, label)
        XCTAssertEqual([b.tieWordEmbeddings, b.qkvBias, b.outputBias, b.mlpBias],
                       [a.tieWordEmbeddings, a.qkvBias, a.outputBias, a.mlpBias], label)
        assertAllClose(b.inverseFrequencies.map(Float.init), a.inverseFrequencies.map(Float.init),
                       atol: 0, rtol: 1e-6, "\(label) RoPE inverse frequencies")

        // Every Hugging Face tensor, bit for bit: names mapped, q/k rows (and biases) unpermuted.
        let names = p.folder.tensors.map(\.name)
        XCTAssertEqual(Set(p.gguf.tensors.map(\.name)).subtracting(["rope_freqs.weight"]), Set(names), label)
        for name in names {
            let ours = try p.gguf.source.view(name)
            let ref = try p.folder.source.view(name)
            XCTAssertEqual(ours.shape, ref.shape, "\(label) \(name)")
            XCTAssertEqual(ours.toFloatArray(), ref.toFloatArray(), "\(label) \(name)")
        }
    }

    func logits(_ model: LoadedModel, tokens: [[Int32]]) throws -> [Float] {
        let decoder = try model.decoder()
        let batch = TokenBatch(tokens: tokens.flatMap { $0 }, batch: tokens.count, length: tokens[0].count)
        try decoder.validate(batch)
        let acts = DecoderActivations(config: decoder.config, batch: batch.batch, length: batch.length)
        decoder.forward(batch, into: acts)
        return acts.logits.toArray()
    }

    func checkSameLogits(_ p: Pair, _ folder: String) throws {
        struct Ref: Decodable { let tokens: [[Int32]] }
        let dir = FixturePaths.fixture(folder)
        let tokens = try JSONDecoder().decode(Ref.self, from: Data(contentsOf: dir.appendingPathComponent("reference.json"))).tokens
        let fromGGUF = try logits(p.gguf, tokens: tokens)
        assertAllClose(fromGGUF, try logits(p.folder, tokens: tokens), atol: 1e-5, rtol: 1e-5, "\(folder): GGUF vs safetensors logits")
        let reference = try SafeTensorsFile(path: dir.appendingPathComponent("reference.safetensors").path)
        assertAllClose(fromGGUF, try reference.view("logits").toFloatArray(), atol: 1e-5, rtol: 1e-4,
                       "\(folder): GGUF logits vs transformers reference")
    }

    func testTinyLlamaGGUFIsTheSafetensorsModel() throws {
        let p = try open("tiny-llama", "tiny-llama-f32.gguf")
        try checkSameModel(p, "tiny-llama")
        guard case .llama3 = p.gguf.config.ropeScaling else { return XCTFail("expected llama3 RoPE scaling from rope_freqs.weight") }
        try checkSameLogits(p, "tiny-llama")
    }

    func testTinyQwen2GGUFIsTheSafetensorsModel() throws {
        let p = try open("tiny-qwen2", "tiny-qwen2-f32.gguf")
        try checkSameModel(p, "tiny-qwen2")
        XCTAssertTrue(p.gguf.config.tieWordEmbeddings)
        try checkSameLogits(p, "tiny-qwen2")
    }

    func testLlamaQKAreStoredPermutedAndServedInHuggingFaceOrder() throws {
        let model = try GGUFModel(path: gguf("tiny-llama-f32.gguf"))
        let stored = try model.file.floats("blk.0.attn_k.weight")  // [2 heads × 24, 64], interleaved rows
        let served = try model.view("model.layers.0.self_attn.k_proj.weight").toFloatArray()
        XCTAssertNotEqual(stored, served)
        // Head h, pair (i, i + 12) of Hugging Face rows sits at GGUF rows (2i, 2i + 1).
        func row(_ m: [Float], _ r: Int) -> [Float] { Array(m[(r * 64)..<((r + 1) * 64)]) }
        for h in 0..<2 {
            for i in 0..<12 {
                XCTAssertEqual(row(served, h * 24 + i), row(stored, h * 24 + 2 * i))
                XCTAssertEqual(row(served, h * 24 + 12 + i), row(stored, h * 24 + 2 * i + 1))
            }
        }
        // Qwen2 is not permuted.
        let qwen = try GGUFModel(path: gguf("tiny-qwen2-f32.gguf"))
        XCTAssertEqual(try qwen.file.floats("blk.0.attn_q.weight"), try qwen.view("model.layers.0.self_attn.q_proj.weight").toFloatArray())
        XCTAssertNil(qwen.permutedHeads("blk.0.attn_q.weight"))
    }

    func testUnpermuteInvertsTheConverterForAnyUnitSize() {
        // The converter's permute written out: GGUF unit h·D + 2i + j holds HF unit h·D + j·D/2 + i.
        for (heads, d, unitElements) in [(3, 4, 5), (1, 2, 1), (2, 8, 3)] {
            let units = heads * d
            let hf: [UInt16] = (0..<(units * unitElements)).map { UInt16($0) }  // 2-byte units, like F16/BF16
            var stored = hf
            for h in 0..<heads {
                for i in 0..<(d / 2) {
                    for j in 0..<2 {
                        for e in 0..<unitElements {
                            stored[(h * d + 2 * i + j) * unitElements + e] = hf[(h * d + j * d / 2 + i) * unitElements + e]
                        }
                    }
                }
            }
            var back = [UInt16](repeating: 0, count: hf.count)
            stored.withUnsafeBytes { src in
                back.withUnsafeMutableBytes { dst in
                    GGUFModel.unpermute(src.baseAddress!, into: dst.baseAddress!, units: units,
                                        unitBytes: unitElements * 2, heads: heads)
                }
            }
            XCTAssertEqual(back, hf, "heads \(heads), D \(d), \(unitElements) elements per unit")
            if d > 2 { XCTAssertNotEqual(stored, hf) }
        }
    }

    func testLoaderListsTensorsWithGGMLTypeNames() throws {
        let loaded = try ModelLoader.open(gguf("tiny-qwen2-f32.gguf"))
        let byName = Dictionary(uniqueKeysWithValues: loaded.tensors.map { ($0.name, $0) })
        XCTAssertEqual(byName["model.embed_tokens.weight"]?.dtype, "F32")
        XCTAssertEqual(byName["model.embed_tokens.weight"]?.shape, [256, 64])
        XCTAssertEqual(byName["model.layers.1.self_attn.q_proj.bias"]?.shape, [64])
        XCTAssertNil(byName["lm_head.weight"])
        XCTAssertEqual(loaded.raw.model_type, "qwen2")
        XCTAssertEqual(loaded.raw.architectures, ["Qwen2ForCausalLM"])
    }

    func testNameMapping() {
        let pairs = [
            ("token_embd.weight", "model.embed_tokens.weight"), ("output_norm.weight", "model.norm.weight"),
            ("output.weight", "lm_head.weight"), ("blk.0.attn_norm.weight", "model.layers.0.input_layernorm.weight"),
            ("blk.12.ffn_norm.weight", "model.layers.12.post_attention_layernorm.weight"),
            ("blk.3.attn_q.bias", "model.layers.3.self_attn.q_proj.bias"),
            ("blk.3.attn_output.weight", "model.layers.3.self_attn.o_proj.weight"),
            ("blk.29.ffn_down.weight", "model.layers.29.mlp.down_proj.weight"),
        ]
        for (g, h) in pairs {
            XCTAssertEqual(GGUFTensorNames.huggingFace(g), h)
            XCTAssertEqual(GGUFTensorNames.gguf(h), g)
        }
        for odd in ["rope_freqs.weight", "blk.x.attn_q.weight", "blk.01.attn_q.weight", "blk.0.attn_q.scale", "output"] {
            XCTAssertNil(GGUFTensorNames.huggingFace(odd), odd)
        }
    }

    func testMissingFileAndWrongExtension() throws {
        XCTAssertThrowsError(try ModelLoader.open("/nonexistent/model.gguf")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/model.gguf"))
            XCTAssertTrue("\(error)".contains(".gguf file"))
        }
        XCTAssertThrowsError(try ModelLoader.open(gguf("README.md"))) { error in
            XCTAssertTrue("\(error)".contains("README.md"))
        }
        // A GGUF file that is not a model (no general.architecture the loader supports).
        XCTAssertThrowsError(try ModelLoader.open(gguf("quant-types.gguf"))) { error in
            XCTAssertTrue("\(error)".contains("general.architecture"), "\(error)")
            XCTAssertTrue("\(error)".contains("'quant-types' is not supported"), "\(error)")
        }
    }
}
