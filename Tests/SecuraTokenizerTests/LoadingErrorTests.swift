// One broken input per failure path of the loaders: each must throw a TokenizerError whose one-line
// message names the file and what is wrong or unsupported. The inputs are the small "flags" fixture
// (a real tokenizer.json written by HF tokenizers) and SmolLM2's GGUF arrays, each with one defect.

import Foundation
import SecuraTokenizer
import XCTest

final class LoadingErrorTests: XCTestCase {
    private let source = "broken/tokenizer.json"

    /// The flags fixture as a mutable JSON object.
    private func baseJSON() throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Fixtures.data("flags/tokenizer.json")) as! [String: Any]
    }

    private func load(_ json: [String: Any], config: [String: Any]? = nil) throws -> Tokenizer {
        let data = try JSONSerialization.data(withJSONObject: json)
        return try Tokenizer(tokenizerJSONData: data, source: source,
                             configData: try config.map { try JSONSerialization.data(withJSONObject: $0) },
                             configSource: "broken/tokenizer_config.json")
    }

    /// Applies `change` to a copy of the base JSON and expects an error mentioning `mentions`.
    private func expectError(_ mentions: [String], file: StaticString = #filePath, line: UInt = #line,
                             _ change: (inout [String: Any]) -> Void) throws {
        var json = try baseJSON()
        change(&json)
        assertTokenizerError(try load(json), mentions: [source] + mentions, file: file, line: line)
    }

    func testUnbrokenBaseLoads() throws {
        XCTAssertNoThrow(try load(try baseJSON()))
    }

    func testNotJSON() {
        assertTokenizerError(try Tokenizer(tokenizerJSONData: Data("{\"model\": ".utf8), source: source),
                             mentions: [source, "not a valid tokenizer JSON"])
        assertTokenizerError(try Tokenizer(tokenizerJSONData: Data("[1, 2]".utf8), source: source),
                             mentions: [source, "not a JSON object"])
    }

    /// Foundation's JSON errors read "The operation could not be completed"; ours give the place.
    func testJSONErrorsArePlaced() throws {
        let broken = Data("{\n  \"version\": \"1.0\",\n  \"model\": {\"type\": \"BPE\" \"vocab\": {}}\n}".utf8)
        assertTokenizerError(try Tokenizer(tokenizerJSONData: broken, source: source),
                             mentions: [source, "line 3, column 27", "key 'model'", "expected '}' or ',' in object"])
        let base = try JSONSerialization.data(withJSONObject: try baseJSON())
        let huge = Data("{\"bos_token\": 1e999}".utf8)
        assertTokenizerError(try Tokenizer(tokenizerJSONData: base, source: source, configData: huge,
                                           configSource: "broken/tokenizer_config.json"),
                             mentions: ["broken/tokenizer_config.json", "key 'bos_token'", "1e999 is out of range"])
    }

    /// A valid JSON number too large for an id is out of range, not "expected an integer".
    func testHugeIdIsOutOfRange() throws {
        try expectError(["model.vocab[a]", "18446744073709551615 is out of range"]) { json in
            var model = json["model"] as! [String: Any]
            var vocab = model["vocab"] as! [String: Any]
            vocab["a"] = NSNumber(value: UInt64.max)
            model["vocab"] = vocab
            json["model"] = model
        }
    }

    func testUnreadableFileSaysWhy() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("tokenizer.json"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        assertTokenizerError(try Tokenizer(directory: folder.path),
                             mentions: [folder.appendingPathComponent("tokenizer.json").path, "it is a folder, not a file"])
    }

    func testMissingFiles() {
        assertTokenizerError(try Tokenizer(directory: "/nonexistent/model"),
                             mentions: ["/nonexistent/model/tokenizer.json", "no such file"])
        assertTokenizerError(try Tokenizer(tokenizerJSON: Fixtures.path("flags/tokenizer.json"),
                                           tokenizerConfig: "/nonexistent/tokenizer_config.json"),
                             mentions: ["/nonexistent/tokenizer_config.json"])
    }

    func testUnsupportedModels() throws {
        try expectError(["Unigram"]) { json in
            var model = json["model"] as! [String: Any]
            model["type"] = "Unigram"
            json["model"] = model
        }
        try expectError(["byte_fallback"]) { json in
            var model = json["model"] as! [String: Any]
            model["byte_fallback"] = true
            json["model"] = model
        }
        try expectError(["dropout"]) { json in
            var model = json["model"] as! [String: Any]
            model["dropout"] = 0.1
            json["model"] = model
        }
        try expectError(["continuing_subword_prefix"]) { json in
            var model = json["model"] as! [String: Any]
            model["continuing_subword_prefix"] = "##"
            json["model"] = model
        }
    }

    func testMissingAndMistypedFields() throws {
        try expectError(["'model.vocab'", "missing"]) { json in
            var model = json["model"] as! [String: Any]
            model["vocab"] = nil
            json["model"] = model
        }
        try expectError(["model.vocab[a]", "integer"]) { json in
            var model = json["model"] as! [String: Any]
            var vocab = model["vocab"] as! [String: Any]
            vocab["a"] = "sixty-four"
            model["vocab"] = vocab
            json["model"] = model
        }
        try expectError(["same id"]) { json in
            var model = json["model"] as! [String: Any]
            var vocab = model["vocab"] as! [String: Any]
            vocab["zzz-extra"] = 64
            model["vocab"] = vocab
            json["model"] = model
        }
        try expectError(["added_tokens[0].content"]) { json in
            var added = json["added_tokens"] as! [[String: Any]]
            added[0]["content"] = nil
            json["added_tokens"] = added
        }
        // An id outside the vocabulary names its key.
        try expectError(["with id -1", "added_tokens[1].id"]) { json in
            var added = json["added_tokens"] as! [[String: Any]]
            added[1]["id"] = -1
            json["added_tokens"] = added
        }
        try expectError(["with id 16777216", "(model.vocab)"]) { json in
            var model = json["model"] as! [String: Any]
            var vocab = model["vocab"] as! [String: Any]
            vocab["zzz-extra"] = 16_777_216
            model["vocab"] = vocab
            json["model"] = model
        }
    }

    func testBadMerges() throws {
        try expectError(["merge #0", "not in the vocabulary"]) { json in
            var model = json["model"] as! [String: Any]
            var merges = model["merges"] as! [Any]
            merges[0] = ["Ġ", "not-a-token"]
            model["merges"] = merges
            json["model"] = model
        }
        try expectError(["merge #1", "two tokens"]) { json in
            var model = json["model"] as! [String: Any]
            var merges = model["merges"] as! [Any]
            merges[1] = "a b c"
            model["merges"] = merges
            json["model"] = model
        }
    }

    func testUnsupportedPipelineSteps() throws {
        try expectError(["normalizer 'Lowercase'"]) { $0["normalizer"] = ["type": "Lowercase"] }
        try expectError(["Split pre-tokenizer pattern", "\\w+"]) { json in
            json["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": "\\w+"], "behavior": "Isolated", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false]]]
        }
        try expectError(["Metaspace"]) { $0["pre_tokenizer"] = ["type": "Metaspace", "replacement": "▁"] }
        try expectError(["add_prefix_space"]) { json in
            json["pre_tokenizer"] = ["type": "ByteLevel", "add_prefix_space": true, "use_regex": true]
        }
        try expectError(["no pre_tokenizer"]) { $0["pre_tokenizer"] = NSNull() }
        try expectError(["decoder 'WordPiece'"]) { $0["decoder"] = ["type": "WordPiece"] }
        try expectError(["post-processor 'RobertaProcessing'"]) { json in
            json["post_processor"] = ["type": "RobertaProcessing", "sep": ["</s>", 2], "cls": ["<s>", 0]]
        }
    }

    func testTemplateProcessing() throws {
        var json = try baseJSON()
        json["post_processor"] = ["type": "TemplateProcessing",
                                  "single": [["SpecialToken": ["id": "<ls>", "type_id": 0]],
                                             ["Sequence": ["id": "A", "type_id": 0]],
                                             ["SpecialToken": ["id": "<rs>", "type_id": 0]]],
                                  "pair": [], "special_tokens": ["<ls>": ["id": "<ls>", "ids": [2256], "tokens": ["<ls>"]],
                                                                 "<rs>": ["id": "<rs>", "ids": [2257], "tokens": ["<rs>"]]]]
        let tokenizer = try load(json)
        XCTAssertEqual(tokenizer.encode("a"), [2256, 64, 2257])
        XCTAssertEqual(tokenizer.encode("a", addSpecialTokens: false), [64])
        XCTAssertEqual(tokenizer.specialTokens.bos, 2256, "one token before $A is taken as BOS")

        json["post_processor"] = ["type": "TemplateProcessing", "single": [["SpecialToken": ["id": "<x>", "type_id": 0]]],
                                  "special_tokens": [:]]
        assertTokenizerError(try load(json), mentions: [source, "post_processor.special_tokens.<x>"])
    }

    func testConfigErrors() throws {
        let json = try baseJSON()
        assertTokenizerError(try load(json, config: ["bos_token": "<nope>"]),
                             mentions: ["broken/tokenizer_config.json", "bos_token", "<nope>"])
        assertTokenizerError(try load(json, config: ["chat_template": 42]),
                             mentions: ["broken/tokenizer_config.json", "chat_template"])
        let named = try load(json, config: ["eos_token": ["content": "<rs>"],
                                            "chat_template": [["name": "tool_use", "template": "A"],
                                                              ["name": "default", "template": "B"]]])
        XCTAssertEqual(named.chatTemplateSource, "B")
        XCTAssertEqual(named.specialTokens.eos, 2257)
    }
}

/// Asserts `body` throws a TokenizerError whose one-line description contains every string in `mentions`.
func assertTokenizerError<T>(_ body: @autoclosure () throws -> T, mentions: [String],
                             file: StaticString = #filePath, line: UInt = #line) {
    do {
        _ = try body()
        XCTFail("expected a TokenizerError mentioning \(mentions), but the call succeeded", file: file, line: line)
    } catch let error as TokenizerError {
        let message = error.description
        XCTAssertFalse(message.contains("\n"), "message should be one line: \(message)", file: file, line: line)
        for text in mentions where !message.contains(text) {
            XCTFail("'\(message)' should mention '\(text)'", file: file, line: line)
        }
    } catch {
        XCTFail("expected a TokenizerError, got \(error)", file: file, line: line)
    }
}
