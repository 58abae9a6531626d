// S-MagNorm against a direct implementation of docs/DESIGN.md §1.7's formulas (written here from the
// formulas, in Double), on random matrices with exact zeros in W, whole and split into row shards whose
// maxima are combined as the distributed merge combines them.
import XCTest
import TestSupport
@testable import SecuraAdapters

final class SMagNormTests: XCTestCase {
    /// W' = W + ΔW, M = |W' / (W + ε)|, mx = max M, M_res = 2 − σ((M/(mx+ε) − 0.5)·S), W ← W + ΔW / M_res.
    func direct(_ w: [Float], _ delta: [Float], eps: Double, scale: Double) -> [Float] {
        let m = zip(w, delta).map { abs((Double($0) + Double($1)) / (Double($0) + eps)) }
        let mx = m.max()!
        return (0..<w.count).map { i in
            let z = (m[i] / (mx + eps) - 0.5) * scale
            let res = 2 - 1 / (1 + exp(-z))
            return Float(Double(w[i]) + Double(delta[i]) / res)
        }
    }

    func testMergeMatchesFormulasWholeAndInRowShards() {
        let h = 9, d = 11, r = 3
        var rng = SeededRandom(seed: 21)
        var w = rng.normals(h * d)
        for i in stride(from: 0, to: w.count, by: 7) { w[i] = 0 }   // exact zeros: M_mag = |ΔW|/ε there
        let c = rng.normals(h * r), p = rng.normals(r * d, std: 0.01)
        // ΔW = C·P
        var delta = [Float](repeating: 0, count: h * d)
        for i in 0..<h { for j in 0..<d { for k in 0..<r { delta[i * d + j] += c[i * r + k] * p[k * d + j] } } }
        for eps: Float in [1e-10, 1e-3] {
            let expected = direct(w, delta, eps: Double(eps), scale: 6)
            for shards in [1, 2, 4] {
                let bounds = (0...shards).map { $0 * h / shards }
                let merged = FloatBuffer(w)
                var deltas: [FloatBuffer] = []
                var localMax: [Float] = []
                for s in 0..<shards {
                    let rows = bounds[s + 1] - bounds[s]
                    let buf = FloatBuffer(count: rows * d)
                    c.withUnsafeBufferPointer { cb in
                        p.withUnsafeBufferPointer { pb in
                            SMagNorm.deltaRows(delta: buf.pointer, c: cb.baseAddress!, product: pb.baseAddress!,
                                               row0: bounds[s], rows: rows, rank: r, columns: d)
                        }
                    }
                    deltas.append(buf)
                    localMax.append(SMagNorm.localMaximum(weight: merged.pointer + bounds[s] * d, delta: buf.pointer,
                                                          count: rows * d, eps: eps))
                }
                let mx = localMax.max()!
                for s in 0..<shards {
                    SMagNorm.apply(weight: merged.pointer + bounds[s] * d, delta: deltas[s].pointer,
                                   count: (bounds[s + 1] - bounds[s]) * d, globalMaximum: mx, eps: eps, scale: 6)
                }
                assertAllClose(merged.toArray(), expected, atol: 1e-6, rtol: 1e-5, "S-MagNorm eps=\(eps) shards=\(shards)")
            }
        }
    }

    func testDampingIsBetweenHalfAndFullChange() {
        // M_res ∈ (1, 2): every element moves by between ΔW/2 and ΔW.
        var rng = SeededRandom(seed: 3)
        let w = rng.normals(50), delta = rng.normals(50, std: 0.1)
        let out = FloatBuffer(w)
        let db = FloatBuffer(delta)
        let mx = SMagNorm.localMaximum(weight: out.pointer, delta: db.pointer, count: 50, eps: 1e-10)
        SMagNorm.apply(weight: out.pointer, delta: db.pointer, count: 50, globalMaximum: mx, eps: 1e-10, scale: 6)
        for i in 0..<50 {
            let moved = (out.pointer[i] - w[i]) / delta[i]
            XCTAssert(moved > 0.5 - 1e-4 && moved < 1 + 1e-4, "element \(i) moved by \(moved)·ΔW")
        }
    }

    func testBF16RoundingIsNearestEven() {
        let b = FloatBuffer([1 + 1.0 / 256, 1 + 3.0 / 256, -2.5])
        SMagNorm.roundToBF16(b.pointer, count: 3)
        XCTAssertEqual(b.toArray(), [1, 1 + 4.0 / 256, -2.5])
    }
}
