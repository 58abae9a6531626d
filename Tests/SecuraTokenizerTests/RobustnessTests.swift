// Inputs that must never crash or hang: invalid UTF-8 bytes, out-of-range ids, very long words and
// whitespace runs, emoji floods, concurrent use. Byte-level BPE is lossless, so every text without
// added tokens must decode back to itself (after NFC for Qwen2).

@testable import SecuraTokenizer
import Foundation
import XCTest

final class RobustnessTests: XCTestCase {
    func testRandomBytesNeverCrash() throws {
        let qwen = try Fixtures.tokenizer("qwen3")
        let smolLM2 = try Fixtures.tokenizer("smollm2")
        var generator = SplitMix64(seed: 42)
        for _ in 0..<300 {
            let bytes = (0..<Int(generator.next() % 64)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            // Qwen's vocabulary holds all 256 byte tokens, so any text survives the round trip (after its NFC).
            XCTAssertEqual(qwen.decode(qwen.encode(bytes: bytes)), TextNormalizer.nfc.normalize(String(decoding: bytes, as: UTF8.self)))
            _ = smolLM2.encode(bytes: bytes)
            // Decoding arbitrary id sequences (including lone UTF-8 bytes) is safe too.
            _ = smolLM2.decode(bytes.map { Int($0) * 97 })
        }
    }

    /// SmolLM2's vocabulary lacks 21 of the 256 byte tokens (controls such as U+0006 and bytes that
    /// never occur in UTF-8); like Hugging Face, which has no unknown token here, such bytes are dropped.
    func testSmolLM2DropsBytesMissingFromItsVocabulary() throws {
        let tokenizer = try Fixtures.tokenizer("smollm2")
        XCTAssertEqual(tokenizer.encode("a\u{06}b\u{1D}b"), [81, 82, 82])
    }

    func testOutOfRangeIDsAreSkipped() throws {
        let tokenizer = try Fixtures.tokenizer("smollm2")
        XCTAssertEqual(tokenizer.decode([-1, 19556, 10_000_000, Int.max, Int.min]), "Hello")
        XCTAssertNil(tokenizer.token(forID: -5))
        XCTAssertNil(tokenizer.token(forID: 49152))
    }

    func testLongInputsRoundTrip() throws {
        let inputs = [
            String(repeating: " ", count: 30_000), String(repeating: "a", count: 30_000),
            String(repeating: "\n", count: 10_000), String(repeating: "\t \n", count: 5_000),
            String(repeating: "👨‍👩‍👧‍👦", count: 2_000), String(repeating: "1234567890", count: 5_000),
            String(repeating: "e\u{301}", count: 10_000), String(repeating: "中文", count: 10_000),
            String(repeating: "<|im_end|>", count: 1_000) + "x", "\n" + String(repeating: " ", count: 20_000) + "x",
        ]
        for name in ["smollm2", "qwen3"] {
            let tokenizer = try Fixtures.tokenizer(name)
            for text in inputs {
                let ids = tokenizer.encode(text, addSpecialTokens: false)
                let expected = name == "qwen3" ? TextNormalizer.nfc.normalize(text) : text
                XCTAssertTrue(tokenizer.decode(ids) == expected && tokenizer.decode(ids).unicodeScalars.elementsEqual(expected.unicodeScalars),
                              "\(name): round trip of \(text.prefix(10).debugDescription)… (\(text.count) characters)")
            }
        }
    }

    func testRoundTripOfGoldenStrings() throws {
        // Qwen (all 256 byte tokens present; SmolLM2 drops some control bytes, see below). Qwen normalises
        // to NFC first, so the round trip returns the NFC form.
        let golden = try Fixtures.golden("qwen3")
        let tokenizer = try Fixtures.tokenizer("qwen3")
        for entry in golden.entries {
            let decoded = tokenizer.decode(tokenizer.encode(entry.text))
            let expected = TextNormalizer.nfc.normalize(entry.text)
            XCTAssertTrue(decoded.unicodeScalars.elementsEqual(expected.unicodeScalars), entry.text.debugDescription)
        }
    }

    /// The heap merge loop (long pieces) and the scanning one (short pieces) agree on every input.
    func testMergeLoopsAgree() throws {
        let model = try Fixtures.tokenizer("smollm2").model
        var generator = SplitMix64(seed: 3)
        let words = ["hello", "tokenization", "supercalifragilistic", "ababababab", "      ", "中文字符",
                     "👍🏽👍🏽", "aaaaaaaaaaaaaaaa", "the the the", "0123456789"]
        for _ in 0..<400 {
            let text = (0..<Int(1 + generator.next() % 8)).map { _ in words[Int(generator.next() % UInt64(words.count))] }.joined()
            let symbols = model.initialSymbols(ArraySlice(Array(text.utf8)))
            XCTAssertEqual(model.mergeByScanning(symbols), model.mergeWithHeap(symbols), text.debugDescription)
        }
    }

    func testConcurrentEncodingIsConsistent() throws {
        let tokenizer = try Fixtures.tokenizer("qwen3")
        let texts = try Fixtures.golden("qwen3").entries.map(\.text)
        let expected = texts.map { tokenizer.encode($0) }
        let results = UnsafeMutableBufferPointer<Bool>.allocate(capacity: 8)
        defer { results.deallocate() }
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            var ok = true
            for (index, text) in texts.enumerated().shuffled() where (index + worker) % 2 == 0 {
                ok = ok && tokenizer.encode(text) == expected[index]
            }
            results[worker] = ok
        }
        XCTAssertEqual(Array(results), [Bool](repeating: true, count: 8))
    }
}
