// BLEU against NLTK's sentence_bleu (method4) on every golden pair, at character and word level, plus
// hand-checkable cases for each of NLTK's branches and for the correctly rounded sum it relies on.

import Foundation
import XCTest
@testable import SecuraMetrics

final class BLEUTests: XCTestCase {
    func testCharacterLevelMatchesNLTK() throws {
        try GoldenMetrics.assertEveryPair("character BLEU", {
            BLEU.characterLevel(hypothesis: $0.prediction, references: $0.golds)
        }, { $0.bleuChar })
    }

    func testWordLevelMatchesNLTK() throws {
        try GoldenMetrics.assertEveryPair("word BLEU", {
            BLEU.wordLevel(hypothesis: $0.prediction, references: $0.golds)
        }, { $0.bleuWord })
    }

    func testIdenticalSentenceScoresOne() {
        XCTAssertEqual(BLEU.wordLevel(hypothesis: "the cat sat on the mat", references: ["the cat sat on the mat"]), 1)
        XCTAssertEqual(BLEU.characterLevel(hypothesis: "abcd", references: ["abcd"]), 1)
    }

    func testNoUnigramMatchOrEmptyHypothesisScoresZero() {
        XCTAssertEqual(BLEU.characterLevel(hypothesis: "xyz", references: ["abc"]), 0)
        XCTAssertEqual(BLEU.characterLevel(hypothesis: "", references: ["abc"]), 0)
        XCTAssertEqual(BLEU.wordLevel(hypothesis: "", references: [""]), 0)
    }

    func testShortHypothesisIsSmoothedByMethod4() {
        // "ab" vs "abc": p1 = 2/2, p2 = 1/1, p3 and p4 have no match and are smoothed to
        // ln2/10 and ln2/20 (incvnt 1 and 2, k = 5); the brevity penalty is e^(1 − 3/2).
        let expected = exp(-0.5) * pow(log(2.0) / 10 * log(2.0) / 20, 0.25)
        XCTAssertEqual(BLEU.characterLevel(hypothesis: "ab", references: ["abc"]), expected, accuracy: 1e-12)
    }

    func testOneUnitHypothesisDropsTheEmptyOrders() {
        // With one unit, ln(1) = 0 so method4 leaves p2…p4 at 0 and they are skipped: BLEU = bp · p1^¼.
        XCTAssertEqual(BLEU.characterLevel(hypothesis: "a", references: ["a"]), 1)
        XCTAssertEqual(BLEU.characterLevel(hypothesis: "a", references: ["abc"]), exp(-2.0), accuracy: 1e-15)
    }

    func testClosestReferenceLengthPrefersTheShorterOnATie() {
        XCTAssertEqual(BLEU.closestReferenceLength(references: [[1, 2, 3, 4, 5, 6], [1, 2, 3, 4]], hypothesisLength: 5), 4)
        XCTAssertEqual(BLEU.closestReferenceLength(references: [[1, 2], [1, 2, 3, 4, 5, 6, 7]], hypothesisLength: 6), 7)
    }

    func testCodePointsNotGraphemes() {
        // Python sees "e\u{301}" as two characters and never equal to the precomposed "é".
        XCTAssertEqual(BLEU.characterLevel(hypothesis: "caf\u{E9}", references: ["cafe\u{301}"]),
                       BLEU.characterLevel(hypothesis: "cafx", references: ["cafyz"]))
    }

    func testFsumIsCorrectlyRounded() {
        XCTAssertEqual(CorrectlyRoundedSum.fsum([1e100, 1.0, -1e100]), 1.0)
        XCTAssertEqual(CorrectlyRoundedSum.fsum([Double](repeating: 0.1, count: 10)), 1.0)
        XCTAssertEqual(CorrectlyRoundedSum.fsum([]), 0)
        XCTAssertEqual(CorrectlyRoundedSum.fsum([1, 1e-16, 1e-16]), 1.0000000000000002)
    }
}
