// GSM8K extraction and accuracy against the Python reference in make_golden.py on every golden pair
// (the real GSM8K solutions as golds), and the rules by hand.

import XCTest
@testable import SecuraMetrics

final class GSM8KTests: XCTestCase {
    func testAccuracyMatchesPythonReference() throws {
        try GoldenMetrics.assertEveryPair("GSM8K accuracy", {
            GSM8K.accuracy(prediction: $0.prediction, gold: $0.golds[0])
        }, { $0.gsm8kAccuracy })
    }

    func testExtractionMatchesPythonReference() throws {
        let golden = try GoldenMetrics.load()
        for (index, pair) in golden.pairs.enumerated() {
            XCTAssertEqual(GSM8K.extractAnswer(pair.prediction), pair.gsm8kPrediction,
                           "pair \(index) (\(pair.source)) prediction \(GoldenMetrics.describe(pair.prediction))")
            XCTAssertEqual(GSM8K.extractAnswer(pair.golds[0]), pair.gsm8kGold,
                           "pair \(index) (\(pair.source)) gold \(GoldenMetrics.describe(pair.golds[0]))")
        }
    }

    func testHandCheckedCases() {
        XCTAssertEqual(GSM8K.extractAnswer("She makes $18.\nThe answer is $1,800."), "1800")
        XCTAssertEqual(GSM8K.extractAnswer("the answer is: -3 or so"), "-3")
        XCTAssertEqual(GSM8K.extractAnswer("The answer is 5. Wait, the answer is 7."), "7")
        XCTAssertEqual(GSM8K.extractAnswer("9 * 2 = 18\n#### 18"), "18")
        XCTAssertEqual(GSM8K.extractAnswer("It costs 3 then 4.5 dollars."), "4.5")
        XCTAssertNil(GSM8K.extractAnswer("No idea."))
        XCTAssertEqual(GSM8K.accuracy(prediction: "The answer is 18.0", gold: "#### 18"), 1)
        XCTAssertEqual(GSM8K.accuracy(prediction: "The answer is 1,000", gold: "The answer is 1000."), 1)
        XCTAssertEqual(GSM8K.accuracy(prediction: "The answer is 17", gold: "#### 18"), 0)
        XCTAssertEqual(GSM8K.accuracy(prediction: "nothing", gold: "#### 18"), 0)
    }
}
