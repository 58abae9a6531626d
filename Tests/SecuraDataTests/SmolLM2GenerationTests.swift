// Greedy generation from SmolLM2 (KV cache) against transformers' greedy output for five prompts
// (Tests/Fixtures/smollm2/reference.json), token for token; the prompt ids from our tokenizer and chat
// template must equal transformers' too.
import Foundation
import XCTest

import SecuraData
import SecuraModel
import SecuraTokenizer
import TestSupport

final class SmolLM2GenerationTests: XCTestCase {
    struct Reference: Decodable {
        struct Generation: Decodable {
            let prompt: String
            let prompt_ids: [Int32]
            let generated_ids: [Int32]
            let top2_logit_margins: [Double]
        }
        let generations: [Generation]
        let eos_token_id: Int32
        let max_new_tokens: Int
    }

    func testGreedyGenerationMatchesTransformers() throws {
        let model = try XCTUnwrap(FixturePaths.smolLM2, "SmolLM2 GGUF missing (looked at \(FixturePaths.smolLM2Candidates)): run launch/fetch-model.sh")
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: FixturePaths.fixture("smollm2/reference.json")))
        let decoder = try ModelLoader.open(model).decoder()
        let tokenizer = try TokenizerLoader.load(model)
        let template = try tokenizer.chatTemplate()
        for g in reference.generations {
            let text = try template.render([ChatMessage(role: "user", content: g.prompt)], addGenerationPrompt: true)
            let ids = tokenizer.encode(text, addSpecialTokens: false).map(Int32.init)
            XCTAssertEqual(ids, g.prompt_ids, "prompt ids of '\(g.prompt)'")
            let out = try decoder.generate(prompt: g.prompt_ids, maxNewTokens: reference.max_new_tokens,
                                           stopTokens: [reference.eos_token_id])
            // transformers keeps the EOS it stopped on; we leave the stop token out.
            var expected = g.generated_ids
            if expected.last == reference.eos_token_id { expected.removeLast() }
            // A float tie (top-2 margin below 1e-3) may legitimately flip; none of these prompts has one.
            XCTAssertTrue(g.top2_logit_margins.allSatisfy { $0 > 1e-3 }, "reference has a near-tie")
            XCTAssertEqual(out.tokens, expected, "greedy tokens for '\(g.prompt)'")
        }
    }
}
