// Attention with Gemma2's options (scale, soft-capped scores, sliding window): finite-difference
// gradients, a direct implementation, and the KV-cache pass against the full pass.
import XCTest
import SecuraTensor
import TestSupport
@testable import SecuraKernels

final class AttentionGemma2Tests: XCTestCase {
    let shape = Attention.Shape(batch: 2, tokens: 6, heads: 4, kvHeads: 2, headDim: 3, scale: 0.4, softcap: 1.2, window: 3)
    var qCount: Int { shape.batch * shape.tokens * shape.heads * shape.headDim }
    var kvCount: Int { shape.batch * shape.tokens * shape.kvHeads * shape.headDim }

    func run(_ q: [Float], _ k: [Float], _ v: [Float]) -> (out: [Float], probs: FloatBuffer) {
        let pool = BufferPool()
        defer { pool.keepAlive() }
        let out = FloatBuffer(count: qCount), probs = FloatBuffer(count: shape.probsCount)
        Attention.forward(out: out.pointer, probs: probs.pointer, q: pool(q), k: pool(k), v: pool(v), shape: shape)
        return (out.toArray(), probs)
    }

    func inputs(_ seed: UInt64) -> ([Float], [Float], [Float]) {
        var rng = SeededRandom(seed: seed)
        return (rng.normals(qCount, std: 2), rng.normals(kvCount, std: 2), rng.normals(kvCount))
    }

    func testGradientsMatchFiniteDifferences() {
        let pool = BufferPool()
        defer { pool.keepAlive() }
        var (q, k, v) = inputs(31)
        var rng = SeededRandom(seed: 32)
        let probe = rng.normals(qCount)
        let (_, probs) = run(q, k, v)
        let dq = FloatBuffer(count: qCount), dk = FloatBuffer(count: kvCount), dv = FloatBuffer(count: kvCount)
        Attention.backward(dQ: dq.pointer, dK: dk.pointer, dV: dv.pointer, dOut: pool(probe), probs: probs.pointer,
                           q: pool(q), k: pool(k), v: pool(v), shape: shape)
        let (q0, k0, v0) = (q, k, v)
        assertGradientMatchesFiniteDifferences("dQ", values: &q, analytic: dq.toArray()) { probeDot(self.run($0, k0, v0).out, probe) }
        assertGradientMatchesFiniteDifferences("dK", values: &k, analytic: dk.toArray()) { probeDot(self.run(q0, $0, v0).out, probe) }
        assertGradientMatchesFiniteDifferences("dV", values: &v, analytic: dv.toArray()) { probeDot(self.run(q0, k0, $0).out, probe) }
    }

    func testMatchesDirectCappedWindowedAttention() {
        let (q, k, v) = inputs(33)
        let out = run(q, k, v).out
        let (t, d, h, kvh) = (shape.tokens, shape.headDim, shape.heads, shape.kvHeads)
        var expected = [Float](repeating: 0, count: qCount)
        for b in 0..<shape.batch {
            for head in 0..<h {
                let g = head / (h / kvh)
                for i in 0..<t {
                    let keys = Array(max(0, i - 3 + 1)...i)  // window 3: keys i−2...i
                    let scores = keys.map { j -> Double in
                        var s = 0.0
                        for e in 0..<d { s += Double(q[((b * t + i) * h + head) * d + e]) * Double(k[((b * t + j) * kvh + g) * d + e]) }
                        return 1.2 * tanh(s * 0.4 / 1.2)
                    }
                    let ex = scores.map { exp($0 - scores.max()!) }
                    let z = ex.reduce(0, +)
                    for e in 0..<d {
                        var acc = 0.0
                        for (n, j) in keys.enumerated() { acc += ex[n] / z * Double(v[((b * t + j) * kvh + g) * d + e]) }
                        expected[((b * t + i) * h + head) * d + e] = Float(acc)
                    }
                }
            }
        }
        assertAllClose(out, expected, atol: 1e-6, rtol: 1e-5, "capped windowed attention")
    }

    func testCachedPassMatchesFullPass() {
        // Sequence 0 of the batch: prefill 2 rows, then one row at a time past the window.
        let (q, k, v) = inputs(34)
        let full = run(q, k, v).out
        let t = shape.tokens, qStride = shape.heads * shape.headDim, kvStride = shape.kvHeads * shape.headDim
        let kCache = FloatBuffer(Array(k[0..<(t * kvStride)])), vCache = FloatBuffer(Array(v[0..<(t * kvStride)]))
        var past = 0
        for n in [2, 1, 1, 1, 1] {
            let out = FloatBuffer(count: n * qStride), scores = FloatBuffer(count: n * (past + n))
            let qRows = FloatBuffer(Array(q[(past * qStride)..<((past + n) * qStride)]))
            Attention.forwardCached(out: out.pointer, scores: scores.pointer, q: qRows.pointer, kCache: kCache.pointer,
                                    vCache: vCache.pointer, newRows: n, past: past, heads: shape.heads,
                                    kvHeads: shape.kvHeads, headDim: shape.headDim, scale: shape.scale,
                                    softcap: shape.softcap, window: shape.window)
            assertAllClose(out.toArray(), Array(full[(past * qStride)..<((past + n) * qStride)]), atol: 1e-6, rtol: 1e-5,
                           "rows \(past)..<\(past + n)")
            past += n
        }
    }
}
