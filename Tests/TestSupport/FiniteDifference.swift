// Central finite-difference gradient checks for kernels computed in fp32.
import XCTest

/// Why an analytic gradient disagrees with central differences of a scalar objective, or nil when every
/// checked element agrees within |numeric − analytic| ≤ atol + rtol·|numeric|. A NaN or Inf on either side,
/// a gradient of another length than `values`, or an empty set of checked indices is a failure: none of
/// them may pass as agreement.
///
/// - Parameters:
///   - values: the inputs being perturbed (modified and restored in place).
///   - analytic: the analytic gradient of `objective` with respect to `values`.
///   - indices: which elements to check (all when nil).
///   - step: the finite-difference step h.
///   - objective: recomputes the scalar objective (accumulate it in Double) from the current `values`.
public func gradientCheckFailure(
    values: inout [Float], analytic: [Float], indices: [Int]? = nil,
    step: Float = 1e-2, atol: Double = 2e-3, rtol: Double = 1e-2,
    objective: ([Float]) -> Double
) -> String? {
    guard values.count == analytic.count else { return "\(analytic.count) gradient values for \(values.count) inputs" }
    let checked = indices ?? Array(0..<values.count)
    guard !checked.isEmpty else { return "nothing to check (0 elements)" }
    if let bad = checked.first(where: { !values.indices.contains($0) }) { return "index \(bad) outside 0..<\(values.count)" }
    var worst: (index: Int, numeric: Double, analytic: Double)? = nil
    var worstExcess = 0.0
    for i in checked {
        let saved = values[i]
        values[i] = saved + step
        let plus = objective(values)
        values[i] = saved - step
        let minus = objective(values)
        values[i] = saved
        let numeric = (plus - minus) / Double(2 * step)
        let a = Double(analytic[i])
        guard a.isFinite else { return "non-finite analytic gradient \(a) at [\(i)] (finite difference \(numeric))" }
        guard numeric.isFinite else { return "non-finite finite difference \(numeric) at [\(i)] (analytic \(a))" }
        let excess = abs(numeric - a) / (atol + rtol * abs(numeric))
        if excess > 1, excess > worstExcess { worstExcess = excess; worst = (i, numeric, a) }
    }
    guard let worst else { return nil }
    return "gradient mismatch at [\(worst.index)]: finite difference \(worst.numeric), analytic \(worst.analytic)"
}

/// Asserts that `analytic` matches central differences of `objective` (see `gradientCheckFailure`).
public func assertGradientMatchesFiniteDifferences(
    _ name: String, values: inout [Float], analytic: [Float], indices: [Int]? = nil,
    step: Float = 1e-2, atol: Double = 2e-3, rtol: Double = 1e-2,
    file: StaticString = #filePath, line: UInt = #line,
    objective: ([Float]) -> Double
) {
    if let failure = gradientCheckFailure(values: &values, analytic: analytic, indices: indices, step: step,
                                          atol: atol, rtol: rtol, objective: objective) {
        XCTFail("\(name): \(failure)", file: file, line: line)
    }
}

/// Σ out ⊙ probe in Double: a random linear functional whose gradient with respect to out is probe.
public func probeDot(_ out: [Float], _ probe: [Float]) -> Double {
    var s = 0.0
    for i in 0..<out.count { s += Double(out[i]) * Double(probe[i]) }
    return s
}
