// Dequantising a GGUF model once per node: two "ranks" (two GGUFModel instances on one shared block,
// run one after the other, which is what the barrier orders) each convert half of the tensors, and every
// view then equals the per-rank lazy dequantisation bit for bit (Llama q/k rows unpermuted too).
import Foundation
import XCTest
import SecuraModel
import SecuraTensor
import TestSupport

final class GGUFSharedLoadTests: XCTestCase {
    func testTwoPartsFillOneSharedBlockWithTheLazyViews() throws {
        guard let path = SmolLM2ReferenceTests.modelPath() else {
            XCTFail("\(SmolLM2ReferenceTests.fileName) not found; run launch/fetch-model.sh to download it")
            return
        }
        let lazy = try GGUFModel(path: path)
        let parts = [try GGUFModel(path: path), try GGUFModel(path: path)]
        var block: FloatBuffer? = nil
        var barriers = 0
        for (part, model) in parts.enumerated() {
            let total = try model.loadAllShared(part: part, of: 2, allocate: { count in
                if block == nil { block = FloatBuffer(count: count) }
                XCTAssertEqual(block!.count, count, "both parts must ask for the same block")
                return (block!.pointer, block!)
            }, barrier: { barriers += 1 })
            XCTAssertGreaterThan(total, 100_000_000, "SmolLM2's quantised tensors hold about 134M values")
        }
        XCTAssertEqual(barriers, 2)
        for name in ["model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
                     "model.layers.7.self_attn.k_proj.weight", "model.layers.29.mlp.down_proj.weight",
                     "model.layers.13.self_attn.v_proj.weight"] {
            let expected = try lazy.view(name).toFloatArray()
            for model in parts {
                let view = try model.view(name)
                XCTAssertEqual(view.dtype, DType.f32)
                assertBitIdentical(view.toFloatArray(), expected, name)
            }
        }
    }
}
