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
}
