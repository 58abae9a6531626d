// The IMSM gate's forward pass (docs/DESIGN.md §1.10): the batch forward over B sequences of T positions
// (training, with the context's or given dropout masks, saves what backward needs), the one-sequence
// generation path, the prompt means q̄, q̄' and the blend ĥ = h' + g ⊙ (h − h').
import Foundation
import SecuraTensor

extension IMSMGate {
    /// ĥ for B sequences of T positions.
    /// - Parameters:
    ///   - out: ĥ [B·T, C] (assigned).
    ///   - h: the frozen model's final-norm hidden states [B·T, C].
    ///   - hp: the tuned model's, h' [B·T, C].
    ///   - promptLengths: P_b per sequence (B values, 0 ≤ P_b ≤ T): q̄ averages rows 0..<P_b of sequence b,
    ///     and is zero when P_b = 0.
    ///   - length: T.
    ///   - training: applies dropout (with the context's row seeds for the B·T rows) and saves what
    ///     `backward` needs.
    public func forward(out: UnsafeMutablePointer<Float>, base h: UnsafePointer<Float>, tuned hp: UnsafePointer<Float>,
                        promptLengths: [Int], length: Int, training: Bool) {
        run(out: out, base: h, tuned: hp, promptLengths: promptLengths, length: length, training: training, masks: nil)
    }

    /// A training forward of the `authors` variant with the given dropout masks instead of the context's
    /// (reference tests hand both sides the same masks); `backward` then uses these masks.
    /// - Parameters:
    ///   - masks: after W_A [B·T, R] and after W_B [B·T, C], each element 0 (dropped) or the kept scale.
    ///   - others: as `forward(out:base:tuned:promptLengths:length:training:)`.
    /// - Precondition: `variant == .authors`.
    public func forward(out: UnsafeMutablePointer<Float>, base h: UnsafePointer<Float>, tuned hp: UnsafePointer<Float>,
                        promptLengths: [Int], length: Int,
                        masks: (afterA: UnsafePointer<Float>, afterB: UnsafePointer<Float>)) {
        precondition(variant == .authors, "explicit IMSM dropout masks need the authors' placement")
        run(out: out, base: h, tuned: hp, promptLengths: promptLengths, length: length, training: true, masks: masks)
    }

    private func run(out: UnsafeMutablePointer<Float>, base h: UnsafePointer<Float>, tuned hp: UnsafePointer<Float>,
                     promptLengths: [Int], length: Int, training: Bool,
                     masks given: (afterA: UnsafePointer<Float>, afterB: UnsafePointer<Float>)?) {
        let n = promptLengths.count * length, c = width
        for p in promptLengths { precondition(0 <= p && p <= length, "IMSM prompt length \(p) outside 0...\(length)") }
        if training { savedRows = n }
        guard let w = weights else { Self.blend(out: out, base: h, tuned: hp, gate: nil, count: n * c); return }
        let xp = (training ? x : xEval).pointer(n * inputWidth)
        if mode == .full {
            let q = means.pointer(2 * promptLengths.count * c)
            for (b, p) in promptLengths.enumerated() {
                Self.promptMean(out: q + 2 * b * c, hidden: h + b * length * c, promptLength: p, width: c)
                Self.promptMean(out: q + (2 * b + 1) * c, hidden: hp + b * length * c, promptLength: p, width: c)
            }
            for r in 0..<n {
                let qb = q + 2 * (r / length) * c
                gateInput(xp + r * inputWidth, base: h + r * c, tuned: hp + r * c, queryBase: qb, queryTuned: qb + c)
            }
        } else {
            for r in 0..<n { gateInput(xp + r * inputWidth, base: h + r * c, tuned: hp + r * c, queryBase: nil, queryTuned: nil) }
        }
        if training, let dropout {
            // In place: the mask is applied element by element.
            dropout.forward(out: xp, input: xp, rows: n, features: inputWidth, context: context)
        }
        var masks: (afterA: UnsafePointer<Float>, afterB: UnsafePointer<Float>)? = nil
        if training && variant == .authors {
            let ma = maskAfterA.pointer(n * rank), mb = maskAfterB.pointer(n * c)
            Self.fillMask(ma, given?.afterA, dropoutAfterA, rows: n, features: rank, context: context)
            Self.fillMask(mb, given?.afterB, dropoutAfterB, rows: n, features: c, context: context)
            masks = (UnsafePointer(ma), UnsafePointer(mb))
        }
        gated(out: out, base: h, tuned: hp, input: xp, u: (training ? u : uEval).pointer(n * rank),
              gate: (training ? g : gEval).pointer(n * c), rows: n, weights: w, masks: masks)
    }

    /// out [rows, features] = the given mask, else `dropout`'s mask from the context's row seeds, else 1.
    private static func fillMask(_ out: UnsafeMutablePointer<Float>, _ given: UnsafePointer<Float>?, _ dropout: Dropout?,
                                 rows: Int, features: Int, context: AdapterContext) {
        if let given {
            out.update(from: given, count: rows * features)
        } else if let dropout {
            dropout.mask(out: out, rows: rows, features: features, context: context)
        } else {
            out.update(repeating: 1, count: rows * features)
        }
    }

    /// ĥ for `rows` new positions of ONE sequence whose prompt means are already known: the generation
    /// path (KV caches, one token at a time). No dropout; nothing is saved for backward.
    /// - Parameters:
    ///   - out: ĥ [rows, C]; h, hp: h and h' [rows, C].
    ///   - queryBase, queryTuned: q̄ and q̄' [C] of the sequence (see `promptMean`); unused unless `full`.
    public func forward(out: UnsafeMutablePointer<Float>, base h: UnsafePointer<Float>, tuned hp: UnsafePointer<Float>,
                        queryBase: UnsafePointer<Float>, queryTuned: UnsafePointer<Float>, rows n: Int = 1) {
        let c = width
        guard let w = weights else { Self.blend(out: out, base: h, tuned: hp, gate: nil, count: n * c); return }
        let xp = xEval.pointer(n * inputWidth)
        for r in 0..<n {
            gateInput(xp + r * inputWidth, base: h + r * c, tuned: hp + r * c,
                      queryBase: mode == .full ? queryBase : nil, queryTuned: mode == .full ? queryTuned : nil)
        }
        gated(out: out, base: h, tuned: hp, input: xp, u: uEval.pointer(n * rank), gate: gEval.pointer(n * c),
              rows: n, weights: w, masks: nil)
    }

    /// P of a sequence: its positions before the first answer token (`lossMask` / `isAnswer` true), or all
    /// of them when there is no answer.
    public static func promptLength(answerMask: [Bool]) -> Int {
        answerMask.firstIndex(of: true) ?? answerMask.count
    }

    /// out [C] = the mean of the first P rows of `hidden` [≥ P, C]; zero when P = 0.
    public static func promptMean(out: UnsafeMutablePointer<Float>, hidden: UnsafePointer<Float>, promptLength p: Int,
                                  width c: Int) {
        out.update(repeating: 0, count: c)
        guard p > 0 else { return }
        for t in 0..<p { BLAS.axpy(n: c, alpha: 1, x: hidden + t * c, y: out) }
        let n = Float(p)
        for j in 0..<c { out[j] /= n }
    }

    /// One row of the gate input: [q̄; h; h'; q̄'] (full) or [h; h'] (no-query).
    @inline(__always)
    private func gateInput(_ row: UnsafeMutablePointer<Float>, base h: UnsafePointer<Float>, tuned hp: UnsafePointer<Float>,
                           queryBase: UnsafePointer<Float>?, queryTuned: UnsafePointer<Float>?) {
        let c = width
        if let queryBase, let queryTuned {
            row.update(from: queryBase, count: c)
            (row + c).update(from: h, count: c)
            (row + 2 * c).update(from: hp, count: c)
            (row + 3 * c).update(from: queryTuned, count: c)
        } else {
            row.update(from: h, count: c)
            (row + c).update(from: hp, count: c)
        }
    }

    /// u = x̃·W_Aᵀ [N, R], g = σ(u·W_Bᵀ) [N, C], ĥ = h' + g ⊙ (h − h'); with `masks` (the authors' training
    /// forward) u and z = u·W_Bᵀ are multiplied by them in place, so `u` keeps the dropped-out u.
    private func gated(out: UnsafeMutablePointer<Float>, base h: UnsafePointer<Float>, tuned hp: UnsafePointer<Float>,
                       input xp: UnsafePointer<Float>, u up: UnsafeMutablePointer<Float>, gate gp: UnsafeMutablePointer<Float>,
                       rows n: Int, weights w: Weights, masks: (afterA: UnsafePointer<Float>, afterB: UnsafePointer<Float>)?) {
        BLAS.sgemm(transB: true, m: n, n: rank, k: inputWidth, a: xp, lda: inputWidth, b: w.a, ldb: inputWidth,
                   c: up, ldc: rank)
        if let masks { for i in 0..<(n * rank) { up[i] *= masks.afterA[i] } }
        BLAS.sgemm(transB: true, m: n, n: width, k: rank, a: up, lda: rank, b: w.b, ldb: rank, c: gp, ldc: width)
        if let masks { for i in 0..<(n * width) { gp[i] *= masks.afterB[i] } }
        for i in 0..<(n * width) { gp[i] = 1 / (1 + expf(-gp[i])) }
        Self.blend(out: out, base: h, tuned: hp, gate: gp, count: n * width)
    }

    /// out = h' + g ⊙ (h − h') (g = 0.5 when nil). Written this way, not g·h + (1 − g)·h', so that h' = h
    /// gives out = h exactly: the difference is exactly zero.
    @inline(__always)
    static func blend(out: UnsafeMutablePointer<Float>, base h: UnsafePointer<Float>, tuned hp: UnsafePointer<Float>,
                      gate g: UnsafePointer<Float>?, count: Int) {
        if let g {
            for i in 0..<count { out[i] = hp[i] + g[i] * (h[i] - hp[i]) }
        } else {
            for i in 0..<count { out[i] = hp[i] + 0.5 * (h[i] - hp[i]) }
        }
    }
}
