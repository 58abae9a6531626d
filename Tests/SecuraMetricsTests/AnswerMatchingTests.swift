// Exact match, contains-answer and token F1 against the SQuAD v1.1 script on every golden pair, the
// normaliser on every golden text, and hand-checkable cases.

import XCTest
@testable import SecuraMetrics

final class AnswerMatchingTests: XCTestCase {
    func testExactMatchMatchesSQuAD() throws {
        try GoldenMetrics.assertEveryPair("exact match", {
            AnswerMatching.exactMatch(prediction: $0.prediction, golds: $0.golds)
        }, { $0.exactMatch })
    }

    func testContainsAnswerMatchesReference() throws {
        try GoldenMetrics.assertEveryPair("contains answer", {
            AnswerMatching.containsAnswer(prediction: $0.prediction, golds: $0.golds)
        }, { $0.contains })
    }

    func testTokenF1MatchesSQuAD() throws {
        try GoldenMetrics.assertEveryPair("token F1", {
            AnswerMatching.tokenF1(prediction: $0.prediction, golds: $0.golds)
        }, { $0.tokenF1 })
    }

    func testNormalizationMatchesSQuAD() throws {
        let golden = try GoldenMetrics.load()
        XCTAssertGreaterThan(golden.normalized.count, 100)
        for (index, entry) in golden.normalized.enumerated() {
            let got = AnswerNormalization.normalize(entry[0])
            XCTAssert(got.unicodeScalars.elementsEqual(entry[1].unicodeScalars),
                      "text \(index) \(GoldenMetrics.describe(entry[0])): got \(got.debugDescription), "
                      + "Python \(entry[1].debugDescription)")
        }
    }

    func testHandCheckedCases() {
        XCTAssertEqual(AnswerNormalization.normalize("  The Cat,  an apple!\tA"), "cat apple")
        XCTAssertEqual(AnswerNormalization.normalize("theory the_x thé"), "theory thex thé")
        XCTAssertEqual(AnswerMatching.exactMatch(prediction: "The Eiffel Tower.", golds: ["eiffel tower"]), 1)
        XCTAssertEqual(AnswerMatching.exactMatch(prediction: "Eiffel", golds: ["eiffel tower", "paris"]), 0)
        XCTAssertEqual(AnswerMatching.containsAnswer(prediction: "It is the Eiffel Tower, I think", golds: ["x", "Eiffel tower"]), 1)
        // P = 2/2, R = 2/3.
        XCTAssertEqual(AnswerMatching.tokenF1(prediction: "the cat sat", golds: ["cat sat down"]), 0.8, accuracy: 1e-15)
        XCTAssertEqual(AnswerMatching.tokenF1(prediction: "cat cat", golds: ["dog", "cat"]), 2.0 / 3.0, accuracy: 1e-15)
        // SQuAD v1.1: nothing in common → 0, even for two empty answers (exact match says 1).
        XCTAssertEqual(AnswerMatching.tokenF1(prediction: "the", golds: [""]), 0)
        XCTAssertEqual(AnswerMatching.exactMatch(prediction: "the", golds: [""]), 1)
        XCTAssertEqual(AnswerMatching.tokenF1(prediction: "x", golds: []), 0)
    }
}
