// Linear: finite-difference gradients, and bf16/f16 panel widening equal to the fp32 path.
import XCTest
import SecuraTensor
import TestSupport
@testable import SecuraKernels

final class LinearTests: XCTestCase {
    let n = 3, ic = 5, oc = 4

    func forward(_ x: [Float], _ w: [Float], _ b: [Float]) -> [Float] {
        let out = FloatBuffer(count: n * oc), wb = FloatBuffer(w), xb = FloatBuffer(x), bb = FloatBuffer(b)
        let view = WeightView(name: "w", dtype: .f32, shape: [oc, ic], data: UnsafeRawPointer(wb.pointer))
        Linear.forward(out: out.pointer, input: xb.pointer, weight: view, bias: bb.pointer,
                       rows: n, inFeatures: ic, outFeatures: oc)
        return out.toArray()
    }

    func testGradientsMatchFiniteDifferences() {
        var rng = SeededRandom(seed: 1)
        var x = rng.normals(n * ic), w = rng.normals(oc * ic), b = rng.normals(oc)
        let probe = rng.normals(n * oc)
        let dx = FloatBuffer(count: n * ic), dw = FloatBuffer(count: oc * ic), db = FloatBuffer(count: oc)
        let wb = FloatBuffer(w), xb = FloatBuffer(x), pb = FloatBuffer(probe)
        let view = WeightView(name: "w", dtype: .f32, shape: [oc, ic], data: UnsafeRawPointer(wb.pointer))
        Linear.backward(dInput: dx.pointer, dWeight: dw.pointer, dBias: db.pointer, dOut: pb.pointer,
                        input: xb.pointer, weight: view, rows: n, inFeatures: ic, outFeatures: oc)
        let (w0, b0, x0) = (w, b, x)
        assertGradientMatchesFiniteDifferences("dInput", values: &x, analytic: dx.toArray()) {
            probeDot(self.forward($0, w0, b0), probe)
        }
        assertGradientMatchesFiniteDifferences("dWeight", values: &w, analytic: dw.toArray()) {
            probeDot(self.forward(x0, $0, b0), probe)
        }
        assertGradientMatchesFiniteDifferences("dBias", values: &b, analytic: db.toArray()) {
            probeDot(self.forward(x0, w0, $0), probe)
        }
    }

    func testHalfPrecisionWeightsWidenPerPanel() {
        var rng = SeededRandom(seed: 2)
        let x = rng.normals(n * ic), w = rng.normals(oc * ic)
        let saved = Linear.panelElements
        Linear.panelElements = 2 * ic // two rows per panel: exercises several panels
        defer { Linear.panelElements = saved }
        for dtype in [DType.bf16, DType.f16] {
            let bits: [UInt16] = w.map { dtype == .bf16 ? DTypeConversion.floatToBF16($0) : DTypeConversion.floatToHalf($0) }
            let rounded: [Float] = bits.map { dtype == .bf16 ? Float(bitPattern: UInt32($0) << 16) : DTypeConversion.halfToFloat($0) }
            let expected = forward(x, rounded, [Float](repeating: 0, count: oc))
            bits.withUnsafeBytes { raw in
                let view = WeightView(name: "w", dtype: dtype, shape: [oc, ic], data: raw.baseAddress!)
                let out = FloatBuffer(count: n * oc), xb = FloatBuffer(x)
                Linear.forward(out: out.pointer, input: xb.pointer, weight: view, bias: nil,
                               rows: n, inFeatures: ic, outFeatures: oc)
                assertAllClose(out.toArray(), expected, atol: 1e-6, rtol: 1e-6, "\(dtype) forward")
                // Backward through panels equals backward through the widened fp32 copy.
                let probe = FloatBuffer(rng.normals(n * oc))
                let dxPanel = FloatBuffer(count: n * ic), dxFull = FloatBuffer(count: n * ic)
                Linear.backward(dInput: dxPanel.pointer, dWeight: nil, dBias: nil, dOut: probe.pointer,
                                input: xb.pointer, weight: view, rows: n, inFeatures: ic, outFeatures: oc)
                let full = FloatBuffer(rounded)
                let fullView = WeightView(name: "w", dtype: .f32, shape: [oc, ic], data: UnsafeRawPointer(full.pointer))
                Linear.backward(dInput: dxFull.pointer, dWeight: nil, dBias: nil, dOut: probe.pointer,
                                input: xb.pointer, weight: fullView, rows: n, inFeatures: ic, outFeatures: oc)
                assertAllClose(dxPanel.toArray(), dxFull.toArray(), atol: 1e-6, rtol: 1e-6, "\(dtype) dInput")
            }
        }
    }

    func testRowBlocksOnSeveralThreadsGiveTheBitsOfOne() {
        // 300 rows: two or three blocks of rows, each one task with OpenBLAS at one thread; below 100³ multiply-adds
        // per call OpenBLAS's small-matrix kernels would add in another order, so such blocks are not made.
        var rng = SeededRandom(seed: 3)
        let rows = 300, ic = 200, oc = 150
        let x = FloatBuffer(rng.normals(rows * ic)), w = rng.normals(oc * ic), dOut = FloatBuffer(rng.normals(rows * oc))
        let start = rng.normals(rows * oc)
        func run(_ dtype: DType, threads: Int) -> [[Float]] {
            let savedParallel = Parallel.threads, savedBLAS = BLAS.threads
            defer { Parallel.threads = savedParallel; BLAS.setThreads(savedBLAS) }
            Parallel.threads = threads
            BLAS.setThreads(threads)
            let bits: [UInt16] = w.map { DTypeConversion.floatToBF16($0) }
            let wb = FloatBuffer(w)
            let out = FloatBuffer(count: rows * oc), added = FloatBuffer(start), dx = FloatBuffer(count: rows * ic)
            let call = { (view: WeightView) in
                Linear.forward(out: out.pointer, input: x.pointer, weight: view, bias: nil, rows: rows, inFeatures: ic,
                               outFeatures: oc)
                Linear.forward(out: added.pointer, input: x.pointer, weight: view, bias: nil, rows: rows,
                               inFeatures: ic, outFeatures: oc, accumulate: true)
                Linear.backward(dInput: dx.pointer, dWeight: nil, dBias: nil, dOut: dOut.pointer, input: x.pointer,
                                weight: view, rows: rows, inFeatures: ic, outFeatures: oc)
            }
            if dtype == .f32 {
                call(WeightView(name: "w", dtype: .f32, shape: [oc, ic], data: UnsafeRawPointer(wb.pointer)))
            } else {
                bits.withUnsafeBytes { call(WeightView(name: "w", dtype: .bf16, shape: [oc, ic], data: $0.baseAddress!)) }
            }
            XCTAssertEqual(BLAS.threads, min(threads, BLAS.cores), "OpenBLAS's thread count restored")
            return [out.toArray(), added.toArray(), dx.toArray()]
        }
        let saved = Linear.panelElements
        Linear.panelElements = 75 * ic  // two panels for bf16
        defer { Linear.panelElements = saved }
        for dtype in [DType.f32, .bf16] {
            w.withUnsafeBytes { raw in
                let view = WeightView(name: "w", dtype: dtype, shape: [oc, ic], data: raw.baseAddress!)
                let product = Linear.smallestPanelProduct(view, inFeatures: ic)
                XCTAssertEqual(product, (dtype == .f32 ? oc : 75) * ic)
                XCTAssertEqual(Linear.rowBlocks(rows, panelProduct: product, threads: 2), 2, "\(dtype.rawValue): split")
                XCTAssertEqual(Linear.rowBlocks(rows, panelProduct: product, threads: 3), dtype == .f32 ? 3 : 2,
                               "\(dtype.rawValue): every call stays above OpenBLAS's small-matrix size")
                XCTAssertEqual(Linear.rowBlocks(8, panelProduct: product, threads: 2), 1, "a few rows stay whole")
            }
            let one = run(dtype, threads: 1)
            for threads in [2, 3] {
                let many = run(dtype, threads: threads)
                for (i, name) in ["out", "accumulated", "dInput"].enumerated() {
                    XCTAssertEqual(one[i].count, many[i].count)
                    let differing = zip(one[i], many[i]).filter { $0.bitPattern != $1.bitPattern }.count
                    XCTAssertEqual(differing, 0, "\(dtype.rawValue), \(threads) threads: \(name) differs in \(differing) values")
                }
            }
        }
    }
}
