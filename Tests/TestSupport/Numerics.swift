// Tolerance comparisons that report the tensor name, the worst index and the value pair on failure.
import XCTest
@_exported import SecuraTensor

/// Asserts |a − r| ≤ atol + rtol·|r| element-wise; on failure names the worst element.
public func assertAllClose(_ actual: [Float], _ reference: [Float], atol: Float, rtol: Float,
                           _ name: String, file: StaticString = #filePath, line: UInt = #line) {
    guard actual.count == reference.count else {
        XCTFail("\(name): \(actual.count) values, reference has \(reference.count)", file: file, line: line)
        return
    }
    var worst = -1
    var worstExcess: Float = 0
    var failures = 0
    for i in 0..<actual.count {
        let a = actual[i], r = reference[i]
        let bound = atol + rtol * abs(r)
        let err = abs(a - r)
        if !(err <= bound) {
            failures += 1
            let excess = err.isNaN ? .infinity : err / bound
            if worst < 0 || excess > worstExcess { worst = i; worstExcess = excess }
        }
    }
    if worst >= 0 {
        XCTFail("\(name): \(failures) of \(actual.count) values outside \(atol) + \(rtol)·|r|; worst at [\(worst)]: "
                + "got \(actual[worst]), reference \(reference[worst]) (error \(abs(actual[worst] - reference[worst])))",
                file: file, line: line)
    }
}

/// Largest |a − r| / (|r| + floor) over the elements.
public func maxRelativeError(_ actual: [Float], _ reference: [Float], floor: Float = 1e-12) -> Float {
    zip(actual, reference).map { abs($0 - $1) / (abs($1) + floor) }.max() ?? 0
}
