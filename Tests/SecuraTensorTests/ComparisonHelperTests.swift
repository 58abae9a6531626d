// The shared comparison helpers of Tests/TestSupport fed deliberately broken inputs: each must report a
// failure for NaN, Inf, a length mismatch and an empty comparison, and pass a genuinely equal input.
// Their verdicts are values, so these tests assert on them without making the test itself fail.
import XCTest
import TestSupport

final class ComparisonHelperTests: XCTestCase {
    /// Inputs that no comparison may accept, with what the message must mention.
    static let broken: [(name: String, actual: [Float], reference: [Float], mentions: String)] = [
        ("NaN in actual", [1, .nan, 3], [1, 2, 3], "non-finite"),
        ("NaN on both sides", [.nan], [.nan], "non-finite"),
        ("Inf on both sides", [.infinity, 1], [.infinity, 1], "non-finite"),
        ("NaN in reference", [1, 2], [1, .nan], "non-finite"),
        ("length mismatch", [1, 2, 3], [1, 2], "3 values, reference has 2"),
        ("shorter actual", [1], [1, 2], "1 values, reference has 2"),
        ("empty", [], [], "nothing to compare"),
    ]

    func testClosenessFailsOnBrokenInputs() {
        for b in Self.broken {
            let verdict = closenessFailure(b.actual, b.reference, atol: 1, rtol: 1)
            XCTAssertTrue(verdict?.contains(b.mentions) == true, "\(b.name): \(verdict ?? "passed")")
        }
        XCTAssertNil(closenessFailure([1, 2.0005], [1, 2], atol: 1e-3, rtol: 0))
        XCTAssertNotNil(closenessFailure([1, 2.01], [1, 2], atol: 1e-3, rtol: 0))
        // A zero bound (atol = rtol = 0) still reports the element, and exact equality passes it.
        XCTAssertTrue(closenessFailure([0, 1], [0, 2], atol: 0, rtol: 0)?.contains("worst at [1]") == true)
        XCTAssertNil(closenessFailure([0, 2], [0, 2], atol: 0, rtol: 0))
    }

    func testBitIdentityFailsOnBrokenInputs() {
        for b in Self.broken {
            let verdict = bitIdentityFailure(b.actual, b.reference)
            XCTAssertTrue(verdict?.contains(b.mentions) == true, "\(b.name): \(verdict ?? "passed")")
        }
        XCTAssertNil(bitIdentityFailure([1, -2], [1, -2]))
        XCTAssertNotNil(bitIdentityFailure([0], [-0.0]), "−0 and +0 differ bit for bit")
    }

    func testScaledDifferenceThrowsOnBrokenInputs() throws {
        for b in Self.broken {
            XCTAssertThrowsError(try scaledDifference(b.actual, b.reference, b.name), b.name) {
                XCTAssertTrue("\($0)".contains(b.mentions), "\(b.name): \($0)")
                XCTAssertTrue("\($0)".hasPrefix(b.name), "names what was compared: \($0)")
            }
        }
        XCTAssertEqual(try scaledDifference([1, 2, 4.5], [1, 2, 4]), 0.125)
        XCTAssertEqual(try scaledDifference([0.5], [0]), 0.5, "max|r| = 0 counts as 1")
    }

    func testGradientCheckFailsOnNaNInfAndNothingChecked() {
        // f(x) = Σ x², gradient 2x.
        let objective: ([Float]) -> Double = { $0.reduce(0.0) { $0 + Double($1) * Double($1) } }
        var x: [Float] = [0.5, -1, 2]
        let right = x.map { 2 * $0 }
        XCTAssertNil(gradientCheckFailure(values: &x, analytic: right, objective: objective))
        XCTAssertEqual(x, [0.5, -1, 2], "values are restored")

        var nan = right
        nan[1] = .nan
        XCTAssertTrue(gradientCheckFailure(values: &x, analytic: nan, objective: objective)?
                        .contains("non-finite analytic gradient nan at [1]") == true, "a NaN analytic gradient must fail")
        var inf = right
        inf[2] = -.infinity
        XCTAssertTrue(gradientCheckFailure(values: &x, analytic: inf, objective: objective)?
                        .contains("non-finite analytic") == true, "an infinite analytic gradient must fail")
        let nanObjective: ([Float]) -> Double = { _ in .nan }
        XCTAssertTrue(gradientCheckFailure(values: &x, analytic: right, objective: nanObjective)?
                        .contains("non-finite finite difference") == true, "a NaN objective must fail")
        XCTAssertTrue(gradientCheckFailure(values: &x, analytic: right, indices: [], objective: objective)?
                        .contains("nothing to check") == true)
        XCTAssertTrue(gradientCheckFailure(values: &x, analytic: [1, 2], objective: objective)?
                        .contains("2 gradient values for 3 inputs") == true)
        XCTAssertTrue(gradientCheckFailure(values: &x, analytic: right, indices: [3], objective: objective)?
                        .contains("outside") == true)
        var wrong = right
        wrong[0] += 0.5
        XCTAssertTrue(gradientCheckFailure(values: &x, analytic: wrong, objective: objective)?
                        .contains("mismatch at [0]") == true)
    }
}
