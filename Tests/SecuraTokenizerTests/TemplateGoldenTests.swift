// The golden set of Tests/Fixtures/templates/make_golden.py: real chat templates (SmolLM2, Qwen2,
// Qwen2.5, Qwen3, Llama 3, and where the script has fetched them Llama 3.1, Llama 3.2 and Gemma 2)
// rendered by secura-dist's Jinja interpreter must equal transformers' renderings byte for byte, encode
// to the same token ids, raise where transformers raised, and split into answer segments whose
// prompt is exactly the generation prompt of the earlier messages.

import Foundation
import SecuraTemplate
import SecuraTokenizer
import XCTest

final class TemplateGoldenTests: XCTestCase {
    struct Family: Decodable {
        let path: String
        let committed: Bool
        let special_tokens: [String: String]
        let tokenizer: String?
    }

    struct Case: Decodable {
        let family: String
        let conversation: String
        let add_generation_prompt: Bool
        let messages: [ChatMessage]
        let text: String?
        let ids: [Int]?
        let error: String?
    }

    struct Golden: Decodable {
        let date: String
        let templates: [String: Family]
        let cases: [Case]
    }

    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").path

    private func golden() throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: Data(contentsOf: URL(fileURLWithPath: Self.fixtures + "/templates/golden.json")))
    }

    /// The template text of a family: a committed file, a JSON field, or a fetched (git-ignored) file.
    private func source(_ family: String, _ info: Family) throws -> String? {
        let path = Self.fixtures + "/" + info.path
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        if info.path.hasSuffix("tokenizer_config.json") {
            return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["chat_template"] as? String
        }
        if info.path.hasSuffix("chat_templates.json") {
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            return (object?["templates"] as? [String: String])?[family]
        }
        return String(decoding: data, as: UTF8.self)
    }

    private func tokenizer(_ name: String?) throws -> Tokenizer? {
        switch name {
        case "smollm2"?, "qwen3"?: return try Fixtures.tokenizer(name!)
        case "llama3.2"?:
            let path = Self.fixtures + "/templates/fetched/llama3.2-tokenizer.json"
            return FileManager.default.fileExists(atPath: path) ? try Tokenizer(tokenizerJSON: path) : nil
        default: return nil
        }
    }

    private func template(_ family: String, _ info: Family, _ source: String, date: String) throws -> ChatTemplate {
        let parser = DateFormatter()
        parser.timeZone = TimeZone(identifier: "UTC")
        parser.dateFormat = "yyyy-MM-dd"
        let candidates = ["<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|endoftext|>", "<eos>"]
        return try ChatTemplate(source: source, origin: info.path, specialTokens: info.special_tokens,
                                endOfTurnCandidates: candidates, date: parser.date(from: date)!)
    }

    func testRenderingsAndIDsEqualTransformers() throws {
        let golden = try golden()
        var rendered = 0, raised = 0, idsChecked = 0, masks = 0
        var missing: [String] = []
        for (family, info) in golden.templates.sorted(by: { $0.key < $1.key }) {
            guard let text = try source(family, info) else {
                XCTAssertFalse(info.committed, "\(family): committed template \(info.path) is missing")
                missing.append(family)
                continue
            }
            let template = try template(family, info, text, date: golden.date)
            let tokenizer = try tokenizer(info.tokenizer)
            for c in golden.cases where c.family == family {
                let label = "\(family) \(c.conversation) add_generation_prompt=\(c.add_generation_prompt)"
                if let error = c.error {
                    XCTAssertThrowsError(try template.render(c.messages, addGenerationPrompt: c.add_generation_prompt), label) {
                        guard case let .raised(_, _, message)? = $0 as? JinjaError else { return XCTFail("\(label): \($0)") }
                        XCTAssertEqual(message, error, label)
                    }
                    raised += 1
                    continue
                }
                let expected = try XCTUnwrap(c.text, label)
                let got = try template.render(c.messages, addGenerationPrompt: c.add_generation_prompt)
                XCTAssertEqual(Array(got.utf8), Array(expected.utf8), "\(label): got \(got.debugDescription)")
                rendered += 1
                if let ids = c.ids, let tokenizer {
                    XCTAssertEqual(tokenizer.encode(got, addSpecialTokens: false), ids, label)
                    idsChecked += 1
                }
                if !c.add_generation_prompt, c.messages.last?.role == "assistant" {
                    if family == "qwen3", c.messages.filter({ $0.role == "assistant" }).count > 1 {
                        // Qwen3 renders an empty think block on the last answer only: an earlier answer's
                        // rendering changes once it is no longer last, so no prefix split exists.
                        XCTAssertThrowsError(try template.segments(c.messages), label) {
                            XCTAssertTrue("\($0)".contains("is not a prefix"), "\(label): \($0)")
                        }
                    } else {
                        try checkSegments(template, c.messages, expected, label: label)
                    }
                    masks += 1
                }
            }
        }
        print("template goldens: \(rendered) renderings, \(raised) raises, \(idsChecked) id lists, \(masks) answer splits; "
              + (missing.isEmpty ? "all templates present" : "not fetched here (run make_golden.py): \(missing.joined(separator: ", "))"))
        XCTAssertGreaterThanOrEqual(rendered, 5 * 24, "every committed family is checked")
        XCTAssertGreaterThanOrEqual(idsChecked, 4 * 24, "SmolLM2 and the Qwen family always have their tokenizer")
        XCTAssertGreaterThanOrEqual(masks, 5 * 9)
    }

    /// The answer segments joined with the prompt give the full rendering; the prompt before the last
    /// answer is the generation-prompt rendering of the earlier messages; each answer ends with the
    /// end-of-turn token.
    private func checkSegments(_ template: ChatTemplate, _ messages: [ChatMessage], _ text: String, label: String) throws {
        let segments = try template.segments(messages)
        XCTAssertEqual(segments.map(\.text).joined(), text, label)
        XCTAssertEqual(segments.filter(\.isAnswer).count, messages.filter { $0.role == "assistant" }.count, label)
        let (prompt, answer) = try template.promptAndAnswer(messages)
        XCTAssertEqual(prompt, try template.render(Array(messages.dropLast()), addGenerationPrompt: true), label)
        let eot = try XCTUnwrap(template.endOfTurnToken, label)
        XCTAssertTrue(answer.hasSuffix(eot), "\(label): \(answer.debugDescription)")
        let content = messages.last!.content.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(content.isEmpty || answer.contains(content), "\(label): answer \(answer.debugDescription) lacks the content")
    }
}
