// Comparing two runs' persisted state by walking their RunStateLayouts: every tensor a run persists
// (trainable values, AdamW moments, the method's own tensors, merged masters) bit for bit.
import SecuraTrain
import TestSupport
import XCTest

/// Why `actual`'s persisted state differs from `reference`'s, one line per differing tensor; empty when
/// every tensor is bit-identical. Different tensor names, and nothing to compare, are differences too.
func runStateDifferences(_ actual: Trainer, _ reference: Trainer) -> [String] {
    let a = RunStateLayout(actual.adapters, optimizer: actual.optimizer).entries
    let r = RunStateLayout(reference.adapters, optimizer: reference.optimizer).entries
    guard !r.isEmpty else { return ["nothing to compare (0 tensors)"] }
    guard a.map(\.name) == r.map(\.name) else {
        return ["tensor names differ: \(a.count) vs \(r.count) (first \(a.first?.name ?? "-") / \(r.first?.name ?? "-"))"]
    }
    return zip(a, r).compactMap { x, y in bitIdentityFailure(x.toArray(), y.toArray()).map { "\(x.name): \($0)" } }
}

/// Asserts that every tensor `actual` persists equals `reference`'s bit for bit.
func assertSameRunState(_ actual: Trainer, _ reference: Trainer, _ label: String,
                        file: StaticString = #filePath, line: UInt = #line) {
    let differences = runStateDifferences(actual, reference)
    if !differences.isEmpty {
        XCTFail("\(label): \(differences.count) persisted tensors differ: \(differences.prefix(3).joined(separator: "; "))",
                file: file, line: line)
    }
}
