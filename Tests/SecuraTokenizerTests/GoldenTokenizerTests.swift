// Exact agreement with Hugging Face tokenizers on every golden string (ids with and without special
// tokens, decodes with and without special tokens, decodes of half the ids, single-id decodes and
// invalid UTF-8 input) for every real tokenizer in the fixtures, and for SmolLM2 through both the
// tokenizer.json and the GGUF-array loaders.

import SecuraTokenizer
import XCTest

final class GoldenTokenizerTests: XCTestCase {
    func testSmolLM2TokenizerJSON() throws {
        try check(try Fixtures.tokenizer("smollm2"), against: "smollm2")
    }

    func testSmolLM2GGUFArrays() throws {
        let tokenizer = try Tokenizer(gguf: try Fixtures.smolLM2GGUFData(), source: "SmolLM2-135M-Instruct.Q4_1.gguf")
        try check(tokenizer, against: "smollm2")
    }

    func testLlama3() throws {
        try check(try Fixtures.tokenizer("llama3"), against: "llama3")
    }

    func testLlama32() throws {
        try check(try Fixtures.tokenizer("llama3.2"), against: "llama3.2")
    }

    func testQwen2StyleQwen3Tokenizer() throws {
        try check(try Fixtures.tokenizer("qwen3"), against: "qwen3")
    }

    /// lstrip, rstrip, single_word and normalized added tokens, on a small tokenizer made by HF
    /// tokenizers itself (none of the real tokenizers sets these flags).
    func testAddedTokenFlags() throws {
        try check(try Fixtures.tokenizer("flags"), against: "flags", minimumEntries: 20)
    }

    /// Compares every golden entry; reports at most a few mismatches of each kind in full.
    private func check(_ tokenizer: Tokenizer, against name: String, minimumEntries: Int = 250,
                       file: StaticString = #filePath, line: UInt = #line) throws {
        let golden = try Fixtures.golden(name)
        XCTAssertGreaterThanOrEqual(golden.entries.count, minimumEntries, file: file, line: line)
        var failures: [String: Int] = [:]
        func fail(_ kind: String, _ message: @autoclosure () -> String) {
            failures[kind, default: 0] += 1
            if failures[kind]! <= 3 { XCTFail("\(name) \(kind): \(message())", file: file, line: line) }
        }
        for entry in golden.entries {
            let ids = tokenizer.encode(entry.text)
            if ids != entry.ids { fail("ids", describe(entry.text, ids, entry.ids, tokenizer)) }
            let plain = tokenizer.encode(entry.text, addSpecialTokens: false)
            if plain != entry.idsNoSpecial { fail("ids without special tokens", describe(entry.text, plain, entry.idsNoSpecial, tokenizer)) }
            let decoded = tokenizer.decode(entry.ids)
            if decoded != entry.decoded { fail("decode", "\(entry.decoded.debugDescription) → \(decoded.debugDescription)") }
            let skipped = tokenizer.decode(entry.ids, skipSpecialTokens: true)
            if skipped != entry.decodedSkipSpecial { fail("decode skipping specials", "\(entry.decodedSkipSpecial.debugDescription) → \(skipped.debugDescription)") }
            let half = tokenizer.decode(Array(entry.ids.prefix(entry.ids.count / 2)))
            if half != entry.halfDecoded { fail("half decode", "\(entry.halfDecoded.debugDescription) → \(half.debugDescription)") }
        }
        for entry in golden.invalidUTF8 {
            XCTAssertEqual(String(decoding: entry.bytes, as: UTF8.self), entry.replaced,
                           "U+FFFD replacement of \(entry.hex)", file: file, line: line)
            let ids = tokenizer.encode(bytes: entry.bytes, addSpecialTokens: false)
            if ids != entry.ids { fail("invalid UTF-8", describe(entry.replaced, ids, entry.ids, tokenizer)) }
        }
        for single in golden.singleIDs where tokenizer.decode([single.id]) != single.decoded {
            fail("single-id decode", "id \(single.id): \(single.decoded.debugDescription) → \(tokenizer.decode([single.id]).debugDescription)")
        }
        let total = failures.values.reduce(0, +)
        XCTAssertEqual(total, 0, "\(name): mismatches \(failures)", file: file, line: line)
    }

    private func describe(_ text: String, _ got: [Int], _ expected: [Int], _ tokenizer: Tokenizer) -> String {
        let first = zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(got.count, expected.count)
        func tokens(_ ids: [Int]) -> String {
            ids[first..<min(ids.count, first + 6)].map { "\($0):\(tokenizer.token(forID: $0) ?? "?")" }.joined(separator: " ")
        }
        return "\(text.prefix(80).debugDescription): first difference at \(first): expected [\(tokens(expected))] got [\(tokens(got))] (lengths \(expected.count) vs \(got.count))"
    }
}
