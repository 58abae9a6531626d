// Multiple-choice accuracy against the Python reference in make_golden.py on every golden pair (each
// pair has a choice list), and the rule's cases by hand.

import XCTest
@testable import SecuraMetrics

final class MultipleChoiceTests: XCTestCase {
    func testMatchesPythonReference() throws {
        try GoldenMetrics.assertEveryPair("multiple-choice accuracy", {
            MultipleChoice.accuracy(prediction: $0.prediction, gold: $0.golds[0], choices: $0.choices)
        }, { $0.mcAccuracy })
    }

    func testHandCheckedCases() {
        let yesNo = ["yes", "no"]
        XCTAssertEqual(MultipleChoice.accuracy(prediction: "Yes.", gold: "yes", choices: yesNo), 1)
        XCTAssertEqual(MultipleChoice.accuracy(prediction: "yes, because it is", gold: "yes", choices: yesNo), 1)
        XCTAssertEqual(MultipleChoice.accuracy(prediction: "no", gold: "yes", choices: yesNo), 0)
        // "not" is not the word "no"; "nothing" does not start with the word "no".
        XCTAssertEqual(MultipleChoice.accuracy(prediction: "not sure", gold: "no", choices: yesNo), 0)
        XCTAssertEqual(MultipleChoice.accuracy(prediction: "nothing", gold: "no", choices: yesNo), 0)
        // The longest choice the answer starts with wins.
        let choices = ["red", "red ball"]
        XCTAssertEqual(MultipleChoice.accuracy(prediction: "Red ball, clearly", gold: "red ball", choices: choices), 1)
        XCTAssertEqual(MultipleChoice.accuracy(prediction: "Red ball, clearly", gold: "red", choices: choices), 0)
        XCTAssertEqual(MultipleChoice.meanAccuracy(predictions: ["yes", "no"], golds: ["yes", "yes"],
                                                   choices: [yesNo, yesNo]), 0.5)
    }
}
