// VectorMath.exp against Foundation's exp in Double: accuracy over the whole normal range, the edges, and
// lane independence (a value's result does not depend on its lane or its neighbours).
import Foundation
import XCTest
@testable import SecuraTensor

final class VectorMathTests: XCTestCase {
    /// Units in the last place of `got` away from the exact `want`.
    func ulps(_ got: Float, _ want: Double) -> Double {
        abs(Double(got) - want) / Double(Float(want).ulp)
    }

    func testWithinOneUlpOverTheNormalRange() {
        var worst = 0.0, worstAt: Float = 0
        var x: Float = -87.3
        while x < 88.3 {
            let lanes = VectorMath.Vector((0..<16).map { x + Float($0) * 0.000_37 })
            let y = VectorMath.exp(lanes)
            for i in 0..<16 {
                let e = ulps(y[i], Foundation.exp(Double(lanes[i])))
                if e > worst { worst = e; worstAt = lanes[i] }
            }
            x += 0.0061
        }
        XCTAssertLessThanOrEqual(worst, 1, "worst \(worst) ulp at x = \(worstAt)")
        // Near zero, where softmax and cross-entropy spend most of their values.
        for x in stride(from: Float(-1), through: 1, by: 0.000_123) {
            XCTAssertLessThanOrEqual(ulps(VectorMath.exp(x), Foundation.exp(Double(x))), 2, "x = \(x)")
        }
    }

    func testEdges() {
        XCTAssertEqual(VectorMath.exp(Float(0)), 1)
        XCTAssertEqual(VectorMath.exp(-Float.infinity), 0)
        XCTAssertEqual(VectorMath.exp(Float(-100)), 0)
        XCTAssertEqual(VectorMath.exp(Float.infinity), .infinity)
        XCTAssertEqual(VectorMath.exp(Float(89)), .infinity)
        XCTAssertTrue(VectorMath.exp(Float.nan).isNaN)
        XCTAssertLessThanOrEqual(ulps(VectorMath.exp(Float(88.3)), Foundation.exp(Double(Float(88.3)))), 2)
        XCTAssertGreaterThan(VectorMath.exp(Float(-87.3)), 0)
    }

    func testLanesAreIndependent() {
        var rng = SeededRandom(seed: 5)
        let values = (0..<64).map { _ in rng.normal() * 20 }
        for lane in 0..<16 {
            for v in values {
                var x = VectorMath.Vector((0..<16).map { Float($0) - 8 })
                x[lane] = v
                XCTAssertEqual(VectorMath.exp(x)[lane], VectorMath.exp(v))
            }
        }
        // A short tail loads the same values as a whole vector.
        let p = values.withUnsafeBufferPointer { VectorMath.load($0.baseAddress!, count: 5, fill: -1) }
        XCTAssertEqual(Array((0..<5).map { p[$0] }), Array(values.prefix(5)))
        XCTAssertEqual(p[5], -1)
    }
}
