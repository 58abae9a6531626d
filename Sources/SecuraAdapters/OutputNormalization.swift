// `--smagnorm output`: the SECURA authors' released code normalises layer OUTPUTS instead of damping
// merges. With y_W the base output and y_Δ the adapter's:
//   y = (2·y_W + y_Δ) ⊘ S,   S = 2 − σ(scale·|y_Δ ⊘ y_W|),   and y = y_W when y_Δ is all zero.
// This wrapper applies that rule around any delta, with its exact derivative in the backward pass
// (the base path's extra factor is applied through the frozen weight).
import Foundation
import SecuraKernels
import SecuraModel
import SecuraTensor

public final class OutputNormalizedDelta: LinearDelta {
    public let inner: LinearDelta
    let weight: WeightView
    let scale: Float
    let outFeatures: Int, inFeatures: Int
    private let base = Scratch(), delta = Scratch(), dA = Scratch(), dB = Scratch()
    private var wasZero = true

    /// Floats of the wrapper's own scratch (the inner delta's comes on top) over `rows` rows: four
    /// [N, OC] buffers once the adapter is non-zero (only the delta output while it is zero).
    public static func scratchFloats(rows n: Int, outFeatures: Int) -> Int { 4 * n * outFeatures }

    /// - Parameter weight: the layer's current base weight [H, D] (the merged master copy for SECURA-M1).
    public init(inner: LinearDelta, weight: WeightView, scale: Float) {
        self.inner = inner
        self.weight = weight
        self.scale = scale
        outFeatures = weight.shape[0]
        inFeatures = weight.shape[1]
    }

    public func forward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, rows n: Int, training: Bool) {
        let count = n * outFeatures
        let yd = delta.pointer(count)
        yd.update(repeating: 0, count: count)
        inner.forward(out: yd, input: input, rows: n, training: training)
        var zero = true
        for i in 0..<count where yd[i] != 0 { zero = false; break }
        if training { wasZero = zero }
        if zero { return }
        let yw = base.pointer(count)
        yw.update(from: out, count: count)
        for i in 0..<count {
            let s = 2 - sigmoid(scale * abs(yd[i] / yw[i]))
            out[i] = (2 * yw[i] + yd[i]) / s
        }
    }

    public func backward(dInput: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, input: UnsafePointer<Float>,
                         rows n: Int) {
        if wasZero {
            inner.backward(dInput: dInput, dOut: dOut, input: input, rows: n)
            return
        }
        let count = n * outFeatures
        let yw = base.pointer(count), yd = delta.pointer(count)
        let gA = dA.pointer(count), gB = dB.pointer(count)
        for i in 0..<count {
            let a = yw[i], b = yd[i]
            let u = b / a
            let sig = sigmoid(scale * abs(u))
            let s = 2 - sig
            // dS/du = −scale·σ'·sign(u); du/da = −b/a², du/db = 1/a
            let dSdu = -scale * sig * (1 - sig) * (u >= 0 ? 1 : -1)
            let q = (2 * a + b) / (s * s)
            let dyda = 2 / s - q * dSdu * (-b / (a * a))
            let dydb = 1 / s - q * dSdu / a
            gA[i] = dOut[i] * (dyda - 1)   // the model already propagated dOut·1 through the base path
            gB[i] = dOut[i] * dydb
        }
        inner.backward(dInput: dInput, dOut: gB, input: input, rows: n)
        Linear.backward(dInput: dInput, dWeight: nil, dBias: nil, dOut: gA, input: input, weight: weight, rows: n,
                        inFeatures: inFeatures, outFeatures: outFeatures, accumulateInput: true)
    }

    @inline(__always)
    private func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }
}
