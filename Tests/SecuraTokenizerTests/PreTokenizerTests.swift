// The hand-written pre-tokenizer patterns on cases where the regex semantics are subtle (backtracking
// of "\s+(?!\S)" and "\s*[\r\n]+", Oniguruma's case folding, Unicode whitespace), with the splits
// Hugging Face tokenizers gives (`pre_tokenizer.pre_tokenize_str`); and the pieces always tile the text.

import SecuraTokenizer
import XCTest

final class PreTokenizerTests: XCTestCase {
    func testGPT2() {
        let p = PreTokenizer.gpt2
        XCTAssertEqual(p.pieces("Hello world"), ["Hello", " world"])
        XCTAssertEqual(p.pieces("a   b"), ["a", "  ", " b"], "the last space joins the word")
        XCTAssertEqual(p.pieces("a \n b"), ["a", " \n", " b"])
        XCTAssertEqual(p.pieces("end   "), ["end", "   "], "trailing whitespace stays whole")
        XCTAssertEqual(p.pieces("I'M don't"), ["I", "'", "M", " don", "'t"], "contractions are case-sensitive")
        XCTAssertEqual(p.pieces("x 12345 y"), ["x", " 12345", " y"])
        XCTAssertEqual(p.pieces("a\tb"), ["a", "\t", "b"], "only U+0020 is the optional space")
        XCTAssertEqual(p.pieces("''s"), ["''", "s"])
    }

    func testLlama3() {
        let p = PreTokenizer.llama3
        XCTAssertEqual(p.pieces("12345"), ["123", "45"])
        XCTAssertEqual(p.pieces("I'M"), ["I", "'M"], "contractions ignore case")
        XCTAssertEqual(p.pieces("'\u{17F}t"), ["'\u{17F}", "t"], "Oniguruma folds long s to s")
        XCTAssertEqual(p.pieces("x \u{85}y"), ["x", " ", "\u{85}y"], "U+0085 is whitespace")
        XCTAssertEqual(p.pieces(" \u{0B}\nb"), [" \u{0B}\n", "b"], "\\s*[\\r\\n]+ ends at the last newline")
        XCTAssertEqual(p.pieces("a\u{2028}\u{2028}b"), ["a", "\u{2028}", "\u{2028}b"])
        XCTAssertEqual(p.pieces("a\u{1C}\u{1C}b"), ["a", "\u{1C}\u{1C}", "b"], "U+001C is not whitespace")
        XCTAssertEqual(p.pieces("ab\u{301}c"), ["ab", "\u{301}c"], "a combining mark prefixes letters")
        XCTAssertEqual(p.pieces("A sentence.Another"), ["A", " sentence", ".Another"])
        XCTAssertEqual(p.pieces("x = 1;\n\n  y"), ["x", " =", " ", "1", ";\n\n", " ", " y"])
    }

    func testQwen2() {
        XCTAssertEqual(PreTokenizer.qwen2.pieces("12345"), ["1", "2", "3", "4", "5"])
        XCTAssertEqual(PreTokenizer.qwen2.pieces("v1.25"), ["v", "1", ".", "2", "5"])
    }

    func testSmolLM2DigitsThenGPT2() {
        let p = PreTokenizer.smolLM2
        XCTAssertEqual(p.pieces("12345"), ["1", "2", "3", "4", "5"])
        XCTAssertEqual(p.pieces("a  1"), ["a", "  ", "1"], "whitespace before a digit ends its own piece")
        XCTAssertEqual(p.pieces("x   1"), ["x", "   ", "1"])
        XCTAssertEqual(p.pieces("'\u{17F}t"), ["'", "\u{17F}t"])
        XCTAssertEqual(p.pieces("²³ and ٣"), ["²", "³", " and", " ", "٣"], "every \\p{N} is split, not only ASCII")
    }

    func testPiecesTileTheText() {
        let pool: [String] = ["a", "Z", "é", "e\u{301}", "中", "😀", "👍🏽", "1", "٣", "²", " ", "  ", "\t", "\n", "\r\n",
                              "\u{A0}", "\u{3000}", "\u{2028}", "\u{85}", "'", "'s", "'LL", ".", "-", "_", "\u{1C}", "\u{200B}"]
        var generator = SplitMix64(seed: 7)
        for _ in 0..<500 {
            let text = (0..<Int(generator.next() % 30)).map { _ in pool[Int(generator.next() % UInt64(pool.count))] }.joined()
            for p in PreTokenizer.allCases {
                let pieces = p.pieces(text)
                XCTAssertEqual(pieces.joined(), text, "\(p) on \(text.debugDescription)")
                XCTAssertFalse(pieces.contains(""), "\(p) produced an empty piece on \(text.debugDescription)")
            }
        }
    }
}

/// A small deterministic generator for test inputs.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
