// ROUGE-1 / ROUGE-L against rouge-score (use_stemmer=True) on every golden pair, its tokenizer on every
// golden text, and the example from rouge-score's README.

import XCTest
@testable import SecuraMetrics

final class ROUGETests: XCTestCase {
    func testRouge1MatchesRougeScore() throws {
        try GoldenMetrics.assertEveryPair("ROUGE-1", {
            ROUGE.rouge1(prediction: $0.prediction, target: $0.golds[0])
        }, { $0.rouge1 })
    }

    func testRougeLMatchesRougeScore() throws {
        try GoldenMetrics.assertEveryPair("ROUGE-L", {
            ROUGE.rougeL(prediction: $0.prediction, target: $0.golds[0])
        }, { $0.rougeL })
    }

    func testTokenizerMatchesRougeScore() throws {
        let golden = try GoldenMetrics.load()
        XCTAssertGreaterThan(golden.rougeTokens.count, 100)
        for (index, entry) in golden.rougeTokens.enumerated() {
            XCTAssertEqual(ROUGE.tokenize(entry.text), entry.tokens,
                           "text \(index): \(GoldenMetrics.describe(entry.text))")
        }
    }

    func testReadmeExample() {
        let target = "The quick brown fox jumps over the lazy dog"
        let prediction = "The quick brown dog jumps on the log."
        let one = ROUGE.rouge1Score(prediction: prediction, target: target)
        XCTAssertEqual(one.precision, 0.75)
        XCTAssertEqual(one.recall, 2.0 / 3.0)
        XCTAssertEqual(one.fmeasure, 0.7058823529411765, accuracy: 1e-15)
        let lcs = ROUGE.rougeLScore(prediction: prediction, target: target)
        XCTAssertEqual(lcs.precision, 0.625)
        XCTAssertEqual(lcs.fmeasure, 0.5882352941176471, accuracy: 1e-15)
    }

    func testStemmingAndNonASCII() {
        XCTAssertEqual(ROUGE.tokenize("Hopping, FALLING skies!"), ["hop", "fall", "sky"])
        // Accented letters are not [a-z0-9]: they split the word and disappear.
        XCTAssertEqual(ROUGE.tokenize("Máirtín"), ["m", "irt", "n"])
        XCTAssertEqual(ROUGE.rouge1(prediction: "", target: "cat"), 0)
        XCTAssertEqual(ROUGE.rougeL(prediction: "cat", target: "!!!"), 0)
    }
}
