// Finite-difference checks of the element-wise and row-wise kernels: RMSNorm, SwiGLU, Embedding,
// RoPE and CrossEntropy.
import XCTest
import SecuraTensor
import TestSupport
@testable import SecuraKernels

final class ElementwiseKernelTests: XCTestCase {
    func testRMSNormGradients() {
        let pool = BufferPool()
        defer { pool.keepAlive() }
        let n = 3, c = 6
        var rng = SeededRandom(seed: 3)
        var x = rng.normals(n * c), w = rng.normals(c).map { 1 + 0.3 * $0 }
        let probe = rng.normals(n * c)
        func run(_ x: [Float], _ w: [Float]) -> (FloatBuffer, FloatBuffer) {
            let pool = BufferPool()
            defer { pool.keepAlive() }
            let out = FloatBuffer(count: n * c), rstd = FloatBuffer(count: n)
            RMSNorm.forward(out: out.pointer, rstd: rstd.pointer, input: pool(x),
                            weight: pool(w), rows: n, channels: c, eps: 1e-5)
            return (out, rstd)
        }
        let (_, rstd) = run(x, w)
        let dx = FloatBuffer(count: n * c), dw = FloatBuffer(count: c)
        let xb = FloatBuffer(x), wb = FloatBuffer(w)
        RMSNorm.backward(dInput: dx.pointer, dWeight: dw.pointer, dOut: pool(probe), input: xb.pointer,
                         rstd: rstd.pointer, weight: wb.pointer, rows: n, channels: c)
        let (x0, w0) = (x, w)
        assertGradientMatchesFiniteDifferences("RMSNorm dInput", values: &x, analytic: dx.toArray()) {
            probeDot(run($0, w0).0.toArray(), probe)
        }
        assertGradientMatchesFiniteDifferences("RMSNorm dWeight", values: &w, analytic: dw.toArray()) {
            probeDot(run(x0, $0).0.toArray(), probe)
        }
    }

    func testSwiGLUGradients() {
        let pool = BufferPool()
        defer { pool.keepAlive() }
        let count = 10
        var rng = SeededRandom(seed: 4)
        var g = rng.normals(count, std: 2), u = rng.normals(count)
        let probe = rng.normals(count)
        func run(_ g: [Float], _ u: [Float]) -> [Float] {
            let pool = BufferPool()
            defer { pool.keepAlive() }
            let out = FloatBuffer(count: count)
            SwiGLU.forward(out: out.pointer, gate: pool(g), up: pool(u), count: count)
            return out.toArray()
        }
        let dg = FloatBuffer(count: count), du = FloatBuffer(count: count)
        SwiGLU.backward(dGate: dg.pointer, dUp: du.pointer, dOut: pool(probe),
                        gate: pool(g), up: pool(u), count: count)
        let (g0, u0) = (g, u)
        assertGradientMatchesFiniteDifferences("SwiGLU dGate", values: &g, analytic: dg.toArray()) {
            probeDot(run($0, u0), probe)
        }
        assertGradientMatchesFiniteDifferences("SwiGLU dUp", values: &u, analytic: du.toArray()) {
            probeDot(run(g0, $0), probe)
        }
    }

    func testEmbeddingGradientAccumulatesRepeatedTokens() {
        let pool = BufferPool()
        defer { pool.keepAlive() }
        let v = 5, c = 3
        var rng = SeededRandom(seed: 5)
        var table = rng.normals(v * c)
        let tokens: [Int32] = [2, 0, 2, 4]
        let probe = rng.normals(tokens.count * c)
        func run(_ t: [Float]) -> [Float] {
            let pool = BufferPool()
            defer { pool.keepAlive() }
            let out = FloatBuffer(count: tokens.count * c), tb = FloatBuffer(t)
            let view = WeightView(name: "emb", dtype: .f32, shape: [v, c], data: UnsafeRawPointer(tb.pointer))
            tokens.withUnsafeBufferPointer {
                Embedding.forward(out: out.pointer, tokens: $0.baseAddress!, table: view, rows: tokens.count, channels: c)
            }
            return out.toArray()
        }
        let dTable = FloatBuffer(count: v * c)
        tokens.withUnsafeBufferPointer {
            Embedding.backward(dTable: dTable.pointer, dOut: pool(probe), tokens: $0.baseAddress!,
                               rows: tokens.count, channels: c)
        }
        assertGradientMatchesFiniteDifferences("Embedding dTable", values: &table, analytic: dTable.toArray()) {
            probeDot(run($0), probe)
        }
    }

    func testRoPEGradientAndInverse() {
        let pool = BufferPool()
        defer { pool.keepAlive() }
        let n = 4, heads = 2, d = 8
        var rng = SeededRandom(seed: 6)
        var x = rng.normals(n * heads * d)
        let probe = rng.normals(n * heads * d)
        let positions: [Int32] = [0, 3, 1, 7]
        let table = RoPE.Table(inverseFrequencies: RoPE.inverseFrequencies(headDim: d, theta: 10000, scaling: .none),
                               positions: 8)
        func run(_ x: [Float]) -> [Float] {
            let pool = BufferPool()
            defer { pool.keepAlive() }
            let b = FloatBuffer(x)
            positions.withUnsafeBufferPointer { RoPE.forward(b.pointer, positions: $0.baseAddress!, table: table, rows: n, heads: heads) }
            return b.toArray()
        }
        let grad = FloatBuffer(probe)
        positions.withUnsafeBufferPointer { RoPE.backward(grad.pointer, positions: $0.baseAddress!, table: table, rows: n, heads: heads) }
        assertGradientMatchesFiniteDifferences("RoPE dInput", values: &x, analytic: grad.toArray()) {
            probeDot(run($0), probe)
        }
        // Position 0 is the identity.
        XCTAssertEqual(Array(run(x)[0..<(heads * d)]), Array(x[0..<(heads * d)]))
    }

    func testLlama3ScalingBands() {
        let pool = BufferPool()
        defer { pool.keepAlive() }
        // Wavelengths below original/high stay, above original/low are divided by factor, between are blended.
        let base = RoPE.inverseFrequencies(headDim: 24, theta: 10000, scaling: .none)
        let scaled = RoPE.inverseFrequencies(headDim: 24, theta: 10000,
                                             scaling: .llama3(factor: 8, lowFreqFactor: 1, highFreqFactor: 4,
                                                              originalMaxPositions: 64))
        var kept = 0, divided = 0, blended = 0
        for (b, s) in zip(base, scaled) {
            let wavelen = 2 * Double.pi / b
            if wavelen < 16 { XCTAssertEqual(s, b); kept += 1 }
            else if wavelen > 64 { XCTAssertEqual(s, b / 8, accuracy: 1e-15); divided += 1 }
            else { XCTAssert(s < b && s > b / 8); blended += 1 }
        }
        XCTAssert(kept > 0 && divided > 0 && blended > 0, "fixture should hit every band: \(kept) \(divided) \(blended)")
    }

    func testCrossEntropyGradientAndIgnoredRows() {
        let pool = BufferPool()
        defer { pool.keepAlive() }
        let n = 3, v = 7
        var rng = SeededRandom(seed: 7)
        var logits = rng.normals(n * v, std: 2)
        let targets: [Int32] = [3, -1, 6]
        func loss(_ l: [Float]) -> Double {
            let pool = BufferPool()
            defer { pool.keepAlive() }
            let losses = FloatBuffer(count: n)
            targets.withUnsafeBufferPointer {
                _ = CrossEntropy.forward(losses: losses.pointer, logits: pool(l), targets: $0.baseAddress!, rows: n, vocab: v)
            }
            return losses.toArray().reduce(0) { $0 + Double($1) } / 2
        }
        let d = FloatBuffer(count: n * v)
        targets.withUnsafeBufferPointer {
            CrossEntropy.backward(dLogits: d.pointer, logits: pool(logits), targets: $0.baseAddress!,
                                  weight: 0.5, rows: n, vocab: v)
        }
        XCTAssertEqual(Array(d.toArray()[v..<(2 * v)]), [Float](repeating: 0, count: v))
        assertGradientMatchesFiniteDifferences("CrossEntropy dLogits", values: &logits, analytic: d.toArray(), step: 1e-2) {
            loss($0)
        }
        // Against a direct log-softmax in Double.
        let row = logits[0..<v].map(Double.init)
        let mx = row.max()!
        let expected = log(row.map { exp($0 - mx) }.reduce(0, +)) + mx - row[3]
        let losses = FloatBuffer(count: n)
        targets.withUnsafeBufferPointer {
            XCTAssertEqual(CrossEntropy.forward(losses: losses.pointer, logits: pool(logits),
                                                targets: $0.baseAddress!, rows: n, vocab: v), 2)
        }
        XCTAssertEqual(Double(losses.pointer[0]), expected, accuracy: 1e-5)
    }
}
