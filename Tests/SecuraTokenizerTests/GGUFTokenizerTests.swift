// The GGUF-array initializer: SmolLM2's real arrays give the special tokens and behaviour the GGUF
// declares, `pre` selects the family, and inconsistent metadata is refused naming the GGUF file.
// (Id-level agreement with Hugging Face is in GoldenTokenizerTests.testSmolLM2GGUFArrays.)

import SecuraTokenizer
import XCTest

final class GGUFTokenizerTests: XCTestCase {
    private let source = "SmolLM2-135M-Instruct.Q4_1.gguf"

    func testSmolLM2Metadata() throws {
        let data = try Fixtures.smolLM2GGUFData()
        XCTAssertEqual(data.tokens.count, 49152)
        XCTAssertEqual(data.merges.count, 48900)
        let tokenizer = try Tokenizer(gguf: data, source: source)
        XCTAssertEqual(tokenizer.preTokenizer, .smolLM2)
        XCTAssertEqual(tokenizer.specialTokens, SpecialTokens(bos: 1, eos: 2, unknown: 0, padding: 2))
        XCTAssertEqual(tokenizer.vocabularySize, 49152)
        XCTAssertEqual(tokenizer.prefixIDs, [], "add_bos_token is false")
        XCTAssertEqual(tokenizer.encode("<|im_start|>user\nHi<|im_end|>"), [1, 4093, 198, 26843, 2])
        XCTAssertTrue(tokenizer.isSpecial(2))
        XCTAssertEqual(tokenizer.decode([1, 26843, 2], skipSpecialTokens: true), "Hi")
        XCTAssertEqual(tokenizer.id(forToken: "<|im_end|>"), 2)
        XCTAssertEqual(tokenizer.token(forID: 19556), "Hello")
    }

    func testAddBOSAndEOS() throws {
        var data = try Fixtures.smolLM2GGUFData()
        data.addBOS = true
        data.addEOS = true
        let tokenizer = try Tokenizer(gguf: data, source: source)
        XCTAssertEqual(tokenizer.encode("Hello"), [1, 19556, 2])
        XCTAssertEqual(tokenizer.encode("Hello", addSpecialTokens: false), [19556])
    }

    func testPreSelectsTheFamily() throws {
        var data = try Fixtures.smolLM2GGUFData()
        for (pre, family) in [("gpt-2", PreTokenizer.gpt2), ("llama-bpe", .llama3), ("qwen2", .qwen2)] {
            data.pre = pre
            XCTAssertEqual(try Tokenizer(gguf: data, source: source).preTokenizer, family, pre)
        }
        data.pre = "gpt-2"
        // GPT-2's pattern keeps " 42" together where SmolLM2 splits off every digit (ids from HF
        // tokenizers with the plain ByteLevel pre-tokenizer and with SmolLM2's own).
        XCTAssertEqual(try Tokenizer(gguf: data, source: source).encode("  42  "), [216, 216, 36, 34, 256])
        XCTAssertEqual(try Tokenizer(gguf: try Fixtures.smolLM2GGUFData(), source: source).encode("  42  "),
                       [256, 36, 34, 256])
    }

    func testInconsistentMetadataIsRefused() throws {
        let good = try Fixtures.smolLM2GGUFData()
        func expect(_ mentions: [String], _ change: (inout GGUFTokenizerData) -> Void,
                    file: StaticString = #filePath, line: UInt = #line) {
            var data = good
            change(&data)
            assertTokenizerError(try Tokenizer(gguf: data, source: source), mentions: [source] + mentions,
                                 file: file, line: line)
        }
        expect(["tokenizer.ggml.model 'llama'"]) { $0.model = "llama" }
        expect(["tokenizer.ggml.pre 'deepseek-llm'"]) { $0.pre = "deepseek-llm" }
        expect(["tokenizer.ggml.token_type", "49151 entries"]) { $0.tokenTypes.removeLast() }
        expect(["token_type[5]", "type 9"]) { $0.tokenTypes[5] = 9 }
        expect(["tokenizer.ggml.bos_token_id", "token id 49152"]) { $0.bosID = 49152 }
        expect(["add_bos_token", "bos_token_id"]) { $0.addBOS = true; $0.bosID = nil }
        expect(["merge #3", "two tokens"]) { $0.merges[3] = "abc" }
        expect(["merge #0", "not in the vocabulary"]) { $0.merges[0] = "Ġ zzzz" }
        expect(["tokenizer.ggml.tokens", "empty"]) { $0.tokens = []; $0.tokenTypes = [] }
    }
}
