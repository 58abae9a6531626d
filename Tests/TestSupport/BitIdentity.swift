// Exact comparisons: two runs that must agree bit for bit (recomputation, resume, rank counts).
import XCTest

/// Why `actual` is not bit-identical to `reference`, or nil when it is. Fails on a length mismatch, on
/// zero compared values, on any non-finite value (NaN == NaN bit patterns must not pass as agreement)
/// and on the first differing bit pattern (so −0 ≠ +0).
public func bitIdentityFailure(_ actual: [Float], _ reference: [Float]) -> String? {
    if let failure = comparabilityFailure(actual, reference) { return failure }
    var differing = 0, first = -1
    for i in 0..<actual.count where actual[i].bitPattern != reference[i].bitPattern {
        differing += 1
        if first < 0 { first = i }
    }
    guard first >= 0 else { return nil }
    return "\(differing) of \(actual.count) values differ; first at [\(first)]: got \(actual[first]), "
        + "reference \(reference[first]) (error \(abs(actual[first] - reference[first])))"
}

/// Asserts `actual` equals `reference` bit for bit (see `bitIdentityFailure`), naming `name` on failure.
public func assertBitIdentical(_ actual: [Float], _ reference: [Float], _ name: String,
                               file: StaticString = #filePath, line: UInt = #line) {
    if let failure = bitIdentityFailure(actual, reference) { XCTFail("\(name): \(failure)", file: file, line: line) }
}
