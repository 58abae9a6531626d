// Chat templates: native renderings equal transformers' apply_chat_template(tokenize=False) for
// SmolLM2's, Qwen2's and Llama 3's templates; recognition of the family from real template sources;
// clear errors for unsupported templates; the prompt/answer split used for answer-only loss.

import Foundation
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
        try ChatTemplate(detecting: fixture.templates[family]!, source: family, bosToken: "<|begin_of_text|>")
    }

    func testRenderingsEqualTransformers() throws {
        let fixture = try fixture()
        XCTAssertEqual(Set(fixture.renderings.map(\.family)), ["smollm2", "qwen2", "llama3"])
        for rendering in fixture.renderings {
            let template = try template(rendering.family, fixture)
            XCTAssertEqual(template.render(rendering.messages, addGenerationPrompt: rendering.addGenerationPrompt),
                           rendering.text,
                           "\(rendering.family) \(rendering.conversation) generation prompt \(rendering.addGenerationPrompt)")
        }
    }

    func testFamiliesAreRecognised() throws {
        let fixture = try fixture()
        XCTAssertEqual(try template("smollm2", fixture),
                       .chatML(defaultSystemPrompt: "You are a helpful AI assistant named SmolLM, trained by Hugging Face"))
        XCTAssertEqual(try template("qwen2", fixture), .chatML(defaultSystemPrompt: "You are a helpful assistant."))
        XCTAssertEqual(try template("llama3", fixture), .llama3())
        XCTAssertEqual(ChatTemplate.chatML(defaultSystemPrompt: nil).endOfTurnToken, "<|im_end|>")
        XCTAssertEqual(ChatTemplate.llama3().endOfTurnToken, "<|eot_id|>")
    }

    func testTemplatesFromTokenizerFiles() throws {
        let smolLM2 = ChatTemplate.chatML(defaultSystemPrompt: "You are a helpful AI assistant named SmolLM, trained by Hugging Face")
        XCTAssertEqual(try Fixtures.tokenizer("smollm2").chatTemplate(), smolLM2, "from chat_template.jinja")
        let gguf = try Tokenizer(gguf: try Fixtures.smolLM2GGUFData(), source: "model.gguf")
        XCTAssertEqual(try gguf.chatTemplate(), smolLM2, "from the GGUF's tokenizer.chat_template")

        // Qwen3's real template has thinking blocks: refused, naming the file.
        let qwen3 = try Fixtures.tokenizer("qwen3")
        assertChatError(try qwen3.chatTemplate(), mentions: ["qwen3/tokenizer.json", "<think>"])
        // Llama 3.2 (base) ships no template (its files are only present where make_golden.py ran).
        guard FileManager.default.fileExists(atPath: Fixtures.path("llama3.2") + "/tokenizer.json") else { return }
        XCTAssertThrowsError(try Fixtures.tokenizer("llama3.2").chatTemplate()) { error in
            XCTAssertEqual(error as? TokenizerError, .noChatTemplate(source: Fixtures.path("llama3.2") + "/tokenizer.json"))
        }
    }

    func testUnsupportedTemplatesAreRefused() {
        let mistral = "{{ bos_token }}{% for message in messages %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% endfor %}"
        assertChatError(try ChatTemplate(detecting: mistral, source: "mistral/tokenizer_config.json"),
                        mentions: ["mistral/tokenizer_config.json", "unsupported chat template", "[INST]"])
        let llama31 = "{{- bos_token }}{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}{{- \"Cutting Knowledge Date: December 2023\\n\" }}<|eot_id|>"
        assertChatError(try ChatTemplate(detecting: llama31, source: "l31.gguf"), mentions: ["l31.gguf", "Llama 3.1"])
        assertChatError(try ChatTemplate(detecting: "{{ messages }}", source: "x.json"), mentions: ["x.json", "not ChatML"])
    }

    func testPlainChatMLHasNoDefaultSystemPrompt() throws {
        let plain = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
        let template = try ChatTemplate(detecting: plain, source: "plain")
        XCTAssertEqual(template, .chatML(defaultSystemPrompt: nil))
        XCTAssertEqual(template.render([ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: true),
                       "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
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
            let trailer = template.family == .chatML ? "\n" : ""
            XCTAssertEqual(prompt + answer + trailer, rendering.text, label)
            XCTAssertEqual(prompt, template.render(Array(messages.dropLast()), addGenerationPrompt: true), label)
            XCTAssertTrue(answer.hasSuffix(template.endOfTurnToken), label)
            checked += 1
        }
        XCTAssertEqual(checked, 9)
        XCTAssertThrowsError(try ChatTemplate.llama3().promptAndAnswer([]))
    }

    func testAnswerMaskOverTokens() throws {
        let tokenizer = try Fixtures.tokenizer("smollm2")
        let template = try tokenizer.chatTemplate()
        let messages = [
            ChatMessage(role: "system", content: "Answer in one word."),
            ChatMessage(role: "user", content: "Capital of France?"),
            ChatMessage(role: "assistant", content: "Paris"),
            ChatMessage(role: "user", content: "And of Japan?"),
            ChatMessage(role: "assistant", content: "Tokyo"),
        ]
        let segments = template.segments(messages)
        XCTAssertEqual(segments.filter(\.isAnswer).map(\.text), ["Paris<|im_end|>", "Tokyo<|im_end|>"])
        let (ids, isAnswer) = tokenizer.encode(segments)
        XCTAssertEqual(ids, tokenizer.encode(template.render(messages, addGenerationPrompt: false), addSpecialTokens: false),
                       "segment-wise encoding equals whole-text encoding for ordinary content")
        let answerIDs = zip(ids, isAnswer).filter(\.1).map(\.0)
        XCTAssertEqual(tokenizer.decode(answerIDs), "Paris<|im_end|>Tokyo<|im_end|>")
        XCTAssertEqual(answerIDs.filter { $0 == tokenizer.specialTokens.eos }.count, 2, "<|im_end|> is trained")

        // Llama 3: the template carries BOS itself, so segments are encoded without the post-processor.
        let llama = try Fixtures.tokenizer("llama3.2")
        let llamaTemplate = ChatTemplate.llama3()
        let (llamaIDs, llamaMask) = llama.encode(llamaTemplate.segments(messages))
        XCTAssertEqual(llamaIDs.filter { $0 == 128000 }.count, 1)
        XCTAssertEqual(llama.decode(zip(llamaIDs, llamaMask).filter(\.1).map(\.0)), "Paris<|eot_id|>Tokyo<|eot_id|>")
    }

    private func assertChatError<T>(_ body: @autoclosure () throws -> T, mentions: [String],
                                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard let error = error as? TokenizerError, case .unsupportedChatTemplate = error else {
                return XCTFail("expected unsupportedChatTemplate, got \(error)", file: file, line: line)
            }
            for text in mentions {
                XCTAssertTrue(error.description.contains(text), "'\(error)' should mention '\(text)'", file: file, line: line)
            }
        }
    }
}
