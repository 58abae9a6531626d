// Gemma2's kernel pieces against finite differences and direct implementations: GeGLU (tanh GELU),
// SoftCap, the (1 + w) RMSNorm, the √C embedding scale, and attention with its own scale, soft-capped
// scores and a sliding window (full pass and KV-cache pass).
import XCTest
import SecuraTensor
import TestSupport
@testable import SecuraKernels

final class Gemma2KernelTests: XCTestCase {
    func testGeGLUGradientsAndFormula() {
        let pool = BufferPool()
        defer { pool.keepAlive() }
        let count = 12
        var rng = SeededRandom(seed: 21)
        var g = rng.normals(count, std: 2), u = rng.normals(count)
        let probe = rng.normals(count)
        func run(_ g: [Float], _ u: [Float]) -> [Float] {
            let pool = BufferPool()
            defer { pool.keepAlive() }
            let out = FloatBuffer(count: count)
            GeGLU.forward(out: out.pointer, gate: pool(g), up: pool(u), count: count)
            return out.toArray()
        }
        let expected = (0..<count).map { i -> Float in
            let x = Double(g[i])
            return Float(0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x))) * Double(u[i]))
        }
        assertAllClose(run(g, u), expected, atol: 1e-6, rtol: 1e-5, "GeGLU forward")
        let dg = FloatBuffer(count: count), du = FloatBuffer(count: count)
        GeGLU.backward(dGate: dg.pointer, dUp: du.pointer, dOut: pool(probe), gate: pool(g), up: pool(u), count: count)
        let (g0, u0) = (g, u)
        assertGradientMatchesFiniteDifferences("GeGLU dGate", values: &g, analytic: dg.toArray()) { probeDot(run($0, u0), probe) }
        assertGradientMatchesFiniteDifferences("GeGLU dUp", values: &u, analytic: du.toArray()) { probeDot(run(g0, $0), probe) }
    }

    func testSoftCapGradient() {
        let count = 9, cap: Float = 1.5
        var rng = SeededRandom(seed: 22)
        var x = rng.normals(count, std: 2)
        let probe = rng.normals(count)
        func run(_ x: [Float]) -> [Float] {
            let b = FloatBuffer(x)
            SoftCap.forward(b.pointer, count: count, cap: cap)
            return b.toArray()
        }
        let y = run(x)
        XCTAssertTrue(y.allSatisfy { abs($0) < cap })
        let grad = FloatBuffer(probe), capped = FloatBuffer(y)
        SoftCap.backward(grad.pointer, capped: capped.pointer, count: count, cap: cap)
        assertGradientMatchesFiniteDifferences("SoftCap", values: &x, analytic: grad.toArray()) { probeDot(run($0), probe) }
    }

    func testRMSNormWithOffsetGradients() {
        let pool = BufferPool()
        defer { pool.keepAlive() }
        let n = 3, c = 6
        var rng = SeededRandom(seed: 23)
        var x = rng.normals(n * c), w = rng.normals(c, std: 0.3)
        let probe = rng.normals(n * c)
        func run(_ x: [Float], _ w: [Float]) -> (FloatBuffer, FloatBuffer) {
            let pool = BufferPool()
            defer { pool.keepAlive() }
            let out = FloatBuffer(count: n * c), rstd = FloatBuffer(count: n)
            RMSNorm.forward(out: out.pointer, rstd: rstd.pointer, input: pool(x), weight: pool(w), rows: n, channels: c,
                            eps: 1e-6, weightOffset: 1)
            return (out, rstd)
        }
        // Offset 1 with w is offset 0 with 1 + w.
        let plain = FloatBuffer(count: n * c), rstd0 = FloatBuffer(count: n)
        RMSNorm.forward(out: plain.pointer, rstd: rstd0.pointer, input: pool(x), weight: pool(w.map { 1 + $0 }),
                        rows: n, channels: c, eps: 1e-6)
        XCTAssertEqual(run(x, w).0.toArray(), plain.toArray())
        let (_, rstd) = run(x, w)
        let dx = FloatBuffer(count: n * c), dw = FloatBuffer(count: c)
        RMSNorm.backward(dInput: dx.pointer, dWeight: dw.pointer, dOut: pool(probe), input: pool(x), rstd: rstd.pointer,
                         weight: pool(w), rows: n, channels: c, weightOffset: 1)
        let (x0, w0) = (x, w)
        assertGradientMatchesFiniteDifferences("RMSNorm(1+w) dInput", values: &x, analytic: dx.toArray()) {
            probeDot(run($0, w0).0.toArray(), probe)
        }
        assertGradientMatchesFiniteDifferences("RMSNorm(1+w) dWeight", values: &w, analytic: dw.toArray()) {
            probeDot(run(x0, $0).0.toArray(), probe)
        }
    }

    func testScaledEmbedding() {
        let table = FloatBuffer((0..<12).map(Float.init))
        let view = WeightView(name: "t", dtype: .f32, shape: [4, 3], data: UnsafeRawPointer(table.pointer), owner: table)
        let tokens: [Int32] = [2, 0, 2]
        let out = FloatBuffer(count: 9), dTable = FloatBuffer(count: 12), ones = FloatBuffer([Float](repeating: 1, count: 9))
        tokens.withUnsafeBufferPointer {
            Embedding.forward(out: out.pointer, tokens: $0.baseAddress!, table: view, rows: 3, channels: 3, scale: 4)
            Embedding.backward(dTable: dTable.pointer, dOut: ones.pointer,
                               tokens: $0.baseAddress!, rows: 3, channels: 3, scale: 4)
        }
        XCTAssertEqual(out.toArray(), [24, 28, 32, 0, 4, 8, 24, 28, 32])
        XCTAssertEqual(dTable.toArray(), [4, 4, 4, 0, 0, 0, 8, 8, 8, 0, 0, 0])
    }
}
