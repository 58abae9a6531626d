// Attention: finite-difference gradients with grouped-query heads and two sequences, and the
// causal mask against a direct implementation.
import XCTest
import SecuraTensor
import TestSupport
@testable import SecuraKernels

final class AttentionTests: XCTestCase {
    let shape = Attention.Shape(batch: 2, tokens: 4, heads: 4, kvHeads: 2, headDim: 3)
    var qCount: Int { shape.batch * shape.tokens * shape.heads * shape.headDim }
    var kvCount: Int { shape.batch * shape.tokens * shape.kvHeads * shape.headDim }

    func run(_ q: [Float], _ k: [Float], _ v: [Float]) -> (out: [Float], probs: FloatBuffer) {
        let pool = BufferPool()
        defer { pool.keepAlive() }
        let out = FloatBuffer(count: qCount), probs = FloatBuffer(count: shape.probsCount)
        Attention.forward(out: out.pointer, probs: probs.pointer, q: pool(q), k: pool(k),
                          v: pool(v), shape: shape)
        return (out.toArray(), probs)
    }

    func testGradientsMatchFiniteDifferences() {
        let pool = BufferPool()
        defer { pool.keepAlive() }
        var rng = SeededRandom(seed: 8)
        var q = rng.normals(qCount), k = rng.normals(kvCount), v = rng.normals(kvCount)
        let probe = rng.normals(qCount)
        let (_, probs) = run(q, k, v)
        let dq = FloatBuffer(count: qCount), dk = FloatBuffer(count: kvCount), dv = FloatBuffer(count: kvCount)
        Attention.backward(dQ: dq.pointer, dK: dk.pointer, dV: dv.pointer, dOut: pool(probe),
                           probs: probs.pointer, q: pool(q), k: pool(k),
                           v: pool(v), shape: shape)
        let (q0, k0, v0) = (q, k, v)
        assertGradientMatchesFiniteDifferences("dQ", values: &q, analytic: dq.toArray()) { probeDot(self.run($0, k0, v0).out, probe) }
        assertGradientMatchesFiniteDifferences("dK", values: &k, analytic: dk.toArray()) { probeDot(self.run(q0, $0, v0).out, probe) }
        assertGradientMatchesFiniteDifferences("dV", values: &v, analytic: dv.toArray()) { probeDot(self.run(q0, k0, $0).out, probe) }
    }

    func testMatchesDirectCausalAttention() {
        let pool = BufferPool()
        defer { pool.keepAlive() }
        var rng = SeededRandom(seed: 9)
        let q = rng.normals(qCount), k = rng.normals(kvCount), v = rng.normals(kvCount)
        let out = run(q, k, v).out
        let (t, d, h, kvh) = (shape.tokens, shape.headDim, shape.heads, shape.kvHeads)
        var expected = [Float](repeating: 0, count: qCount)
        for b in 0..<shape.batch {
            for head in 0..<h {
                let g = head / (h / kvh)
                for i in 0..<t {
                    var scores = [Double]()
                    for j in 0...i {
                        var s = 0.0
                        for e in 0..<d {
                            s += Double(q[((b * t + i) * h + head) * d + e]) * Double(k[((b * t + j) * kvh + g) * d + e])
                        }
                        scores.append(s / Double(d).squareRoot())
                    }
                    let mx = scores.max()!
                    let ex = scores.map { exp($0 - mx) }
                    let z = ex.reduce(0, +)
                    for e in 0..<d {
                        var acc = 0.0
                        for j in 0...i { acc += ex[j] / z * Double(v[((b * t + j) * kvh + g) * d + e]) }
                        expected[((b * t + i) * h + head) * d + e] = Float(acc)
                    }
                }
            }
        }
        assertAllClose(out, expected, atol: 1e-6, rtol: 1e-5, "attention output")
    }
}
