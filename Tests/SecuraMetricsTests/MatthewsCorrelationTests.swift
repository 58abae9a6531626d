// Matthews correlation against sklearn.metrics.matthews_corrcoef on CoLA label vectors, degenerate
// inputs and one three-class case, plus hand-checkable values.

import XCTest
@testable import SecuraMetrics

final class MatthewsCorrelationTests: XCTestCase {
    func testMatchesScikitLearn() throws {
        let golden = try GoldenMetrics.load()
        XCTAssertGreaterThanOrEqual(golden.mcc.count, 10)
        for item in golden.mcc {
            let got = MatthewsCorrelation.coefficient(labels: item.labelBools, predictions: item.predictionBools)
            XCTAssertEqual(got, item.mcc, accuracy: GoldenMetrics.tolerance,
                           "\(item.name): labels \(item.labels.prefix(60)), predictions \(item.predictions.prefix(60))")
        }
        let multi = golden.mccMulticlass
        XCTAssertEqual(MatthewsCorrelation.coefficient(labels: multi.labels, predictions: multi.predictions),
                       multi.mcc, accuracy: GoldenMetrics.tolerance, "three classes")
    }

    func testHandCheckedCases() {
        XCTAssertEqual(MatthewsCorrelation.coefficient(labels: [true, false, true], predictions: [true, false, true]), 1)
        XCTAssertEqual(MatthewsCorrelation.coefficient(labels: [true, false], predictions: [false, true]), -1)
        // A constant prediction has zero variance: sklearn returns 0, not NaN.
        XCTAssertEqual(MatthewsCorrelation.coefficient(labels: [true, false, true], predictions: [true, true, true]), 0)
        XCTAssertEqual(MatthewsCorrelation.coefficient(labels: [Bool](), predictions: []), 0)
        // TP 2, FN 1, FP 1, TN 1: (2·1 − 1·1) / √(3·3·2·2) = 1/6.
        XCTAssertEqual(MatthewsCorrelation.coefficient(labels: [true, true, false, false, true],
                                                       predictions: [true, false, false, true, true]), 1.0 / 6.0, accuracy: 1e-15)
    }
}
