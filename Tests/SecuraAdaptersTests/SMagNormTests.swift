// S-MagNorm against a direct implementation of docs/DESIGN.md §1.7's formulas (written here from the
// formulas, in Double), on random matrices with exact zeros in W, whole and split into row shards whose
// maxima are combined as the distributed merge combines them.
import XCTest
import SecuraModel
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

    /// SECURA-M2's damped fusion (SecuraM2Method): d = ⟨ΔW, ΔW ⊘ M_res⟩ / ⟨ΔW, ΔW⟩ with M_res from the
    /// former weight W + C·A_L·B_L·R, computed here densely in Double from the formulas; B_L ← B_L + d·B.
    func testSecuraM2DampedFusionMatchesFormulas() {
        let h = 70, d = 9, r = 3, m = 4   // h > 64: more than one row panel
        var rng = SeededRandom(seed: 23)
        let wValues = rng.normals(h * d)
        let w = FloatBuffer(wValues)
        let view = WeightView(name: "w", dtype: .f32, shape: [h, d], data: UnsafeRawPointer(w.pointer), owner: w)
        let site = LinearSite(layer: 0, projection: .v)
        var layout = ParameterLayout()
        CABRDelta.register(site, rank: r, innerRank: m, in: &layout)
        let params = TrainableParameters(layout: layout)
        let cabr = CABRDelta(site: site, weight: view, rank: r, innerRank: m, longTerm: true, parameters: params)
        let a = rng.normals(r * m), b = rng.normals(m * r, std: 0.2)
        cabr.setInitialA(a)
        for i in 0..<(m * r) { cabr.longB!.pointer[i] = rng.normal() * 0.1 }
        let longB = Array(UnsafeBufferPointer(start: cabr.longB!.pointer, count: m * r))
        params.values.pointer(CABRDelta.names(site).b)!.update(from: b, count: b.count)
        // Dense former weight and change, in Double.
        let cm = cabr.c.toArray(), rm = cabr.r.toArray()
        func dense(_ a: [Float], _ b: [Float]) -> [Double] {
            var core = [Double](repeating: 0, count: r * r)
            for i in 0..<r { for j in 0..<r { for k in 0..<m { core[i * r + j] += Double(a[i * m + k]) * Double(b[k * r + j]) } } }
            var out = [Double](repeating: 0, count: h * d)
            for i in 0..<h { for j in 0..<d {
                var v = 0.0
                for p in 0..<r { for q in 0..<r { v += Double(cm[i * r + p]) * core[p * r + q] * Double(rm[q * d + j]) } }
                out[i * d + j] = v
            } }
            return out
        }
        let change = dense(a, b), longTerm = dense(a, longB)
        let former = (0..<(h * d)).map { Double(wValues[$0]) + longTerm[$0] }
        let eps = 1e-10, scale = 6.0
        let ratios = (0..<(h * d)).map { abs((former[$0] + change[$0]) / (former[$0] + eps)) }
        let mx = ratios.max()!
        var damped = 0.0, total = 0.0
        for i in 0..<(h * d) {
            let res = 2 - 1 / (1 + exp(-(ratios[i] / (mx + eps) - 0.5) * scale))
            damped += change[i] * change[i] / res
            total += change[i] * change[i]
        }
        let expected = damped / total
        let found = SecuraM2Method.damping(cabr, eps: 1e-10, scale: 6)
        XCTAssertEqual(Double(found), expected, accuracy: 1e-5 * expected)
        XCTAssert((0.5...1).contains(found), "d = \(found) lies between ½ and 1")
        XCTAssert(found < 0.99, "the damping does something here (d = \(found))")
        cabr.fuseLongTerm(damping: found)
        let fused = Array(UnsafeBufferPointer(start: cabr.longB!.pointer, count: m * r))
        XCTAssertEqual(fused, (0..<(m * r)).map { longB[$0] + found * b[$0] })
        XCTAssertEqual(params.values.values(CABRDelta.names(site).b)!, [Float](repeating: 0, count: m * r), "B ← 0")
        XCTAssertEqual(Array(UnsafeBufferPointer(start: cabr.longA!.pointer, count: r * m)), a, "A_L ← A")
        withExtendedLifetime(w) {}
    }
}
