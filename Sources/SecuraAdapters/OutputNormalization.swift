// `--smagnorm output`: the SECURA authors' released code normalises layer OUTPUTS instead of damping
// merges (MeCuping/SECURA, SECURA_Relese/src/CABR_DoRA_Sep.py, `CABRLoRA.merge` and `SigNorm`). With y_F
// the former layer's output (the base weight, bias included; for SECURA-M2 plus its long-term pair
// C·A_L·B_L·R) and y_Δ the trainable change's (C·A·B·R, plus b_Δ with --delta-bias):
//   y = (2·y_F + y_Δ) ⊘ S,   S = 2 − σ(scale·|y_Δ ⊘ (y_F + ε)|),
// and S ≡ 2 when y_Δ is zero over the whole micro-batch (so y = y_F + y_Δ/2 = y_F). As in their code S is
// DETACHED: the backward pass treats it as a constant, so ∂y/∂y_Δ = 1/S and ∂y/∂y_F = 2/S (½ and 1 while
// y_Δ is all zero). Docs: docs/DESIGN.md §1.7.
import Foundation
import SecuraKernels
import SecuraModel
import SecuraTensor

public final class OutputNormalizedDelta: LinearDelta {
    public let inner: LinearDelta
    /// SECURA-M2's long-term pair, part of the former weight (nil for the other methods).
    let longTerm: CABRDelta?
    let weight: WeightView
    let scale: Float, eps: Float
    let outFeatures: Int, inFeatures: Int
    private let delta = Scratch(), divisor = Scratch(), dBase = Scratch(), dDelta = Scratch()
    private var wasZero = true

    /// Floats of the wrapper's own scratch (the inner delta's comes on top) over `rows` rows: four [N, OC]
    /// buffers (the change, the saved S, and the two paths' output gradients).
    public static func scratchFloats(rows n: Int, outFeatures: Int) -> Int { 4 * n * outFeatures }

    /// - Parameters:
    ///   - weight: the layer's current base weight [H, D] (the merged master copy for SECURA-M1).
    ///   - longTerm: SECURA-M2's delta, whose long-term pair joins the former weight; its
    ///     `includesLongTerm` is turned off so that `inner` yields the short-term change only.
    ///   - eps: ε in the ratio's denominator (the authors' 1e-10; `--smagnorm-eps`).
    public init(inner: LinearDelta, weight: WeightView, scale: Float, eps: Float = 1e-10, longTerm: CABRDelta? = nil) {
        self.inner = inner
        self.weight = weight
        self.scale = scale
        self.eps = eps
        self.longTerm = longTerm
        longTerm?.includesLongTerm = false
        outFeatures = weight.shape[0]
        inFeatures = weight.shape[1]
    }

    public func forward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, rows n: Int, training: Bool) {
        let count = n * outFeatures
        longTerm?.forwardLongTerm(out: out, input: input, rows: n)   // out = y_F
        let yd = delta.pointer(count)
        yd.update(repeating: 0, count: count)
        inner.forward(out: yd, input: input, rows: n, training: training)
        var zero = true
        for i in 0..<count where yd[i] != 0 { zero = false; break }
        if training { wasZero = zero }
        if zero { return }   // (2·y_F + 0) / 2
        let s = training ? divisor.pointer(count) : nil
        for i in 0..<count {
            let f = out[i]
            let divisorValue = 2 - sigmoid(scale * abs(yd[i] / (f + eps)))
            s?[i] = divisorValue
            out[i] = (2 * f + yd[i]) / divisorValue
        }
    }

    public func backward(dInput: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, input: UnsafePointer<Float>,
                         rows n: Int) {
        let count = n * outFeatures
        let gDelta = dDelta.pointer(count)
        if wasZero {
            // S ≡ 2: the change gets ½ of the output gradient, the former weight all of it (the model
            // already propagated dOut through the base weight; the long-term pair is ours to run).
            for i in 0..<count { gDelta[i] = 0.5 * dOut[i] }
            inner.backward(dInput: dInput, dOut: gDelta, input: input, rows: n)
            longTerm?.backwardLongTerm(dInput: dInput, dOut: dOut, rows: n)
            return
        }
        let s = divisor.pointer(count), gBase = dBase.pointer(count)
        for i in 0..<count {
            gDelta[i] = dOut[i] / s[i]
            gBase[i] = 2 * dOut[i] / s[i]
        }
        inner.backward(dInput: dInput, dOut: gDelta, input: input, rows: n)
        longTerm?.backwardLongTerm(dInput: dInput, dOut: gBase, rows: n)
        // The model propagates dOut·1 through the base weight itself; add the rest, (2/S − 1)·dOut.
        for i in 0..<count { gBase[i] -= dOut[i] }
        Linear.backward(dInput: dInput, dWeight: nil, dBias: nil, dOut: gBase, input: input, weight: weight, rows: n,
                        inFeatures: inFeatures, outFeatures: outFeatures, accumulateInput: true)
    }

    @inline(__always)
    private func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }
}
