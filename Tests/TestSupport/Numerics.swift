// Tolerance comparisons that report the tensor name, the worst index and the value pair on failure.
// Every comparison first asks `comparabilityFailure`: two arrays of different lengths, two empty arrays
// or a NaN/Inf on either side are failures, never a vacuous pass. The verdicts are values (a message or
// nil, a number or a thrown `ComparisonFailure`) so that tests of the helpers can assert on them; the
// `assert…` wrappers turn a verdict into an XCTest failure.
import XCTest
@_exported import SecuraTensor

/// Why two arrays cannot be compared element by element, or nil when they can: different lengths,
/// nothing to compare, or a non-finite value on either side (named with its index).
public func comparabilityFailure(_ actual: [Float], _ reference: [Float]) -> String? {
    guard actual.count == reference.count else { return "\(actual.count) values, reference has \(reference.count)" }
    guard !actual.isEmpty else { return "nothing to compare (0 values)" }
    if let i = actual.firstIndex(where: { !$0.isFinite }) { return "non-finite value \(actual[i]) at [\(i)]" }
    if let i = reference.firstIndex(where: { !$0.isFinite }) { return "non-finite reference \(reference[i]) at [\(i)]" }
    return nil
}

/// Why `actual` is not within |a − r| ≤ atol + rtol·|r| of `reference` element-wise, or nil when it is.
/// Names the worst element and counts the ones outside the bound.
public func closenessFailure(_ actual: [Float], _ reference: [Float], atol: Float, rtol: Float) -> String? {
    if let failure = comparabilityFailure(actual, reference) { return failure }
    var worst = -1
    var worstExcess: Float = 0
    var failures = 0
    for i in 0..<actual.count {
        let a = actual[i], r = reference[i]
        let bound = atol + rtol * abs(r)
        let err = abs(a - r)
        if !(err <= bound) {
            failures += 1
            let excess = bound > 0 ? err / bound : .infinity
            if worst < 0 || excess > worstExcess { worst = i; worstExcess = excess }
        }
    }
    guard worst >= 0 else { return nil }
    return "\(failures) of \(actual.count) values outside \(atol) + \(rtol)·|r|; worst at [\(worst)]: "
        + "got \(actual[worst]), reference \(reference[worst]) (error \(abs(actual[worst] - reference[worst])))"
}

/// Asserts |a − r| ≤ atol + rtol·|r| element-wise (see `closenessFailure`); on failure names the worst element.
public func assertAllClose(_ actual: [Float], _ reference: [Float], atol: Float, rtol: Float,
                           _ name: String, file: StaticString = #filePath, line: UInt = #line) {
    if let failure = closenessFailure(actual, reference, atol: atol, rtol: rtol) {
        XCTFail("\(name): \(failure)", file: file, line: line)
    }
}

/// A comparison that could not be made (lengths, nothing to compare, a non-finite value).
public struct ComparisonFailure: Error, CustomStringConvertible {
    public let description: String
}

/// max|a − r| / max|r| over the elements (max|r| = 0 counts as 1): how far a run on N ranks is from the
/// 1-rank run, relative to the size of the values.
///
/// - Throws: `ComparisonFailure` when the arrays are not comparable (`comparabilityFailure`), so that a
///   zip over arrays of different lengths, or over nothing, can never report a difference of 0.
public func scaledDifference(_ actual: [Float], _ reference: [Float], _ name: String = "values") throws -> Double {
    if let failure = comparabilityFailure(actual, reference) { throw ComparisonFailure(description: "\(name): \(failure)") }
    var difference = 0.0, scale = 0.0
    for i in 0..<actual.count {
        difference = max(difference, Double(abs(actual[i] - reference[i])))
        scale = max(scale, Double(abs(reference[i])))
    }
    return difference / (scale > 0 ? scale : 1)
}
