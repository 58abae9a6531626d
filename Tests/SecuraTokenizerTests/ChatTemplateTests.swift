// Chat templates through the Jinja interpreter: the renderings of chat_templates.json (SmolLM2, Qwen2,
// Llama 3) equal transformers'; templates load from tokenizer files and GGUF; the end-of-turn token is
// found by rendering; answer-only masks come from prefix renderings, and a template whose prompt
// rendering is not a prefix of its full rendering is refused with a clear message.

import Foundation
import SecuraTemplate
import SecuraTokenizer
import XCTest

final class ChatTemplateTests: XCTestCase {
    struct Rendering: Decodable {
        let family: String
        let conversation: String
        let addGenerationPrompt: Bool
        let messages: [ChatMessage]
        let text: String

        enum CodingKeys: String, CodingKey {
            case family, conversation, messages, text
            case addGenerationPrompt = "add_generation_prompt"
        }
    }

    struct ChatFixture: Decodable {
        let templates: [String: String]
        let renderings: [Rendering]
    }

    private func fixture() throws -> ChatFixture {
        try JSONDecoder().decode(ChatFixture.self, from: Fixtures.data("chat_templates.json"))
    }

    private func template(_ family: String, _ fixture: ChatFixture) throws -> ChatTemplate {
        try ChatTemplate(source: fixture.templates[family]!, origin: family, specialTokens: ["bos_token": "<|begin_of_text|>"],
                         endOfTurnCandidates: ["<|im_end|>", "<|eot_id|>", "<|begin_of_text|>"])
    }

    func testRenderingsEqualTransformers() throws {
        let fixture = try fixture()
        XCTAssertEqual(Set(fixture.renderings.map(\.family)), ["smollm2", "qwen2", "llama3"])
        for rendering in fixture.renderings {
            let template = try template(rendering.family, fixture)
            XCTAssertEqual(try template.render(rendering.messages, addGenerationPrompt: rendering.addGenerationPrompt),
                           rendering.text,
                           "\(rendering.family) \(rendering.conversation) generation prompt \(rendering.addGenerationPrompt)")
        }
    }

    func testEndOfTurnTokenIsFoundByRendering() throws {
        let fixture = try fixture()
        XCTAssertEqual(try template("smollm2", fixture).endOfTurnToken, "<|im_end|>")
        XCTAssertEqual(try template("qwen2", fixture).endOfTurnToken, "<|im_end|>")
        XCTAssertEqual(try template("llama3", fixture).endOfTurnToken, "<|eot_id|>")
        let none = try ChatTemplate(source: "{% for m in messages %}{{ m.content }}{% endfor %}", origin: "plain",
                                    endOfTurnCandidates: ["<|im_end|>"])
        XCTAssertNil(none.endOfTurnToken)
    }

    func testTemplatesFromTokenizerFiles() throws {
        let messages = [ChatMessage(role: "user", content: "Hi")]
        let expected = "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
            + "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        let fromJinja = try Fixtures.tokenizer("smollm2").chatTemplate()
        XCTAssertEqual(try fromJinja.render(messages, addGenerationPrompt: true), expected, "from chat_template.jinja")
        XCTAssertEqual(fromJinja.specialTokens["bos_token"], "<|im_start|>")
        let gguf = try Tokenizer(gguf: try Fixtures.smolLM2GGUFData(), source: "model.gguf")
        let fromGGUF = try gguf.chatTemplate()
        XCTAssertEqual(try fromGGUF.render(messages, addGenerationPrompt: true), expected, "from the GGUF's tokenizer.chat_template")
        XCTAssertEqual(fromGGUF.endOfTurnToken, "<|im_end|>")

        // Qwen3's thinking template renders (namespace, messages[::-1], split, lstrip), with the empty
        // think block on the last answer, as transformers renders it.
        let qwen3 = try Fixtures.tokenizer("qwen3").chatTemplate()
        XCTAssertEqual(try qwen3.render([ChatMessage(role: "user", content: "Q"), ChatMessage(role: "assistant", content: "A")],
                                        addGenerationPrompt: false),
                       "<|im_start|>user\nQ<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\nA<|im_end|>\n")

        // --chat-template replaces the tokenizer's template and is named in errors.
        let override = try Fixtures.tokenizer("smollm2").chatTemplate(override: "{{ messages[0].content }}!", overrideOrigin: "mine.jinja")
        XCTAssertEqual(try override.render(messages, addGenerationPrompt: false), "Hi!")
        XCTAssertThrowsError(try Fixtures.tokenizer("smollm2").chatTemplate(override: "{% include 'x.jinja' %}", overrideOrigin: "mine.jinja")) {
            XCTAssertTrue("\($0)".contains("mine.jinja, line 1"), "\($0)")
            XCTAssertTrue("\($0)".contains("include"), "\($0)")
        }
    }

    /// Llama 3.2 (base) ships no template. Its files are only present where make_golden.py ran: without
    /// them the test is reported as skipped (Fixtures.tokenizer throws XCTSkip), never as passed.
    func testLlama32HasNoChatTemplate() throws {
        let llama = try Fixtures.tokenizer("llama3.2")
        XCTAssertThrowsError(try llama.chatTemplate()) { error in
            XCTAssertEqual(error as? TokenizerError, .noChatTemplate(source: Fixtures.path("llama3.2") + "/tokenizer.json"))
        }
    }

    func testPromptThatIsNotAPrefixIsRefused() throws {
        // The generation prompt differs from the rendered assistant header: no answer mask can be made.
        let source = "{% for m in messages %}<{{ m.role }}>{{ m.content }}</s>{% endfor %}{% if add_generation_prompt %}<bot>{% endif %}"
        let template = try ChatTemplate(source: source, origin: "odd.jinja", endOfTurnCandidates: ["</s>"])
        let messages = [ChatMessage(role: "user", content: "Q"), ChatMessage(role: "assistant", content: "A")]
        XCTAssertThrowsError(try template.segments(messages)) { error in
            guard case .unsupportedChatTemplate = error as? TokenizerError else { return XCTFail("\(error)") }
            let text = "\(error)"
            for part in ["odd.jinja", "add_generation_prompt", "is not a prefix", "answer-only loss masks cannot be computed"] {
                XCTAssertTrue(text.contains(part), "'\(text)' should mention '\(part)'")
            }
        }
    }

    func testPromptAnswerSplit() throws {
        let fixture = try fixture()
        var checked = 0
        for rendering in fixture.renderings where !rendering.addGenerationPrompt {
            let template = try template(rendering.family, fixture)
            let messages = rendering.messages
            guard messages.last?.role == "assistant" else {
                XCTAssertThrowsError(try template.promptAndAnswer(messages)) { error in
                    guard case .invalidConversation = error as? TokenizerError else { return XCTFail("\(error)") }
                }
                continue
            }
            let (prompt, answer) = try template.promptAndAnswer(messages)
            let label = "\(rendering.family) \(rendering.conversation)"
            let trailer = rendering.family == "llama3" ? "" : "\n"
            XCTAssertEqual(prompt + answer + trailer, rendering.text, label)
            XCTAssertEqual(prompt, try template.render(Array(messages.dropLast()), addGenerationPrompt: true), label)
            XCTAssertTrue(answer.hasSuffix(template.endOfTurnToken!), label)
            checked += 1
        }
        XCTAssertEqual(checked, 9)
        XCTAssertThrowsError(try template("llama3", fixture).promptAndAnswer([]))
    }

    static let twoTurns = [
        ChatMessage(role: "system", content: "Answer in one word."),
        ChatMessage(role: "user", content: "Capital of France?"),
        ChatMessage(role: "assistant", content: "Paris"),
        ChatMessage(role: "user", content: "And of Japan?"),
        ChatMessage(role: "assistant", content: "Tokyo"),
    ]

    func testAnswerMaskOverTokens() throws {
        let tokenizer = try Fixtures.tokenizer("smollm2")
        let template = try tokenizer.chatTemplate()
        let messages = Self.twoTurns
        let segments = try template.segments(messages)
        XCTAssertEqual(segments.filter(\.isAnswer).map(\.text), ["Paris<|im_end|>", "Tokyo<|im_end|>"])
        let (ids, isAnswer) = tokenizer.encode(segments)
        XCTAssertEqual(isAnswer.count, ids.count, "one mask flag per token")
        XCTAssertEqual(ids, tokenizer.encode(try template.render(messages, addGenerationPrompt: false), addSpecialTokens: false),
                       "segment-wise encoding equals whole-text encoding for ordinary content")
        let answerIDs = zip(ids, isAnswer).filter(\.1).map(\.0)
        XCTAssertEqual(tokenizer.decode(answerIDs), "Paris<|im_end|>Tokyo<|im_end|>")
        XCTAssertEqual(answerIDs.filter { $0 == tokenizer.specialTokens.eos }.count, 2, "<|im_end|> is trained")
    }

    /// Llama 3: the template carries BOS itself, so segments are encoded without the post-processor.
    /// Skipped (not passed) where the llama3.2 tokenizer fixture is absent.
    func testLlamaAnswerMaskOverTokens() throws {
        let llama = try Fixtures.tokenizer("llama3.2")
        let messages = Self.twoTurns
        let llamaTemplate = try self.template("llama3", try fixture())
        let (llamaIDs, llamaMask) = llama.encode(try llamaTemplate.segments(messages))
        XCTAssertEqual(llamaMask.count, llamaIDs.count, "one mask flag per token")
        XCTAssertEqual(llamaIDs.filter { $0 == 128000 }.count, 1)
        XCTAssertEqual(llama.decode(zip(llamaIDs, llamaMask).filter(\.1).map(\.0)), "Paris<|eot_id|>Tokyo<|eot_id|>")
    }
}
