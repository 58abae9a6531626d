// Central finite-difference gradient checks for kernels computed in fp32.
import XCTest

/// Checks an analytic gradient against central differences of a scalar objective.
///
/// - Parameters:
///   - values: the inputs being perturbed (modified and restored in place).
///   - analytic: the analytic gradient of `objective` with respect to `values`.
///   - indices: which elements to check (all when nil).
///   - step: the finite-difference step h.
///   - objective: recomputes the scalar objective (accumulate it in Double) from the current `values`.
public func assertGradientMatchesFiniteDifferences(
    _ name: String, values: inout [Float], analytic: [Float], indices: [Int]? = nil,
    step: Float = 1e-2, atol: Double = 2e-3, rtol: Double = 1e-2,
    file: StaticString = #filePath, line: UInt = #line,
    objective: ([Float]) -> Double
) {
    precondition(values.count == analytic.count)
    var worst: (index: Int, numeric: Double, analytic: Double)? = nil
    var worstExcess = 0.0
    for i in indices ?? Array(0..<values.count) {
        let saved = values[i]
        values[i] = saved + step
        let plus = objective(values)
        values[i] = saved - step
        let minus = objective(values)
        values[i] = saved
        let numeric = (plus - minus) / Double(2 * step)
        let a = Double(analytic[i])
        let excess = abs(numeric - a) / (atol + rtol * abs(numeric))
        if excess > 1, excess > worstExcess { worstExcess = excess; worst = (i, numeric, a) }
    }
    if let worst {
        XCTFail("\(name): gradient mismatch at [\(worst.index)]: finite difference \(worst.numeric), "
                + "analytic \(worst.analytic)", file: file, line: line)
    }
}

/// Σ out ⊙ probe in Double: a random linear functional whose gradient with respect to out is probe.
public func probeDot(_ out: [Float], _ probe: [Float]) -> Double {
    var s = 0.0
    for i in 0..<out.count { s += Double(out[i]) * Double(probe[i]) }
    return s
}
