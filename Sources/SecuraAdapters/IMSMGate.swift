// IMSM, the siamese gate (docs/DESIGN.md §1.10): the frozen model's and the tuned model's final-norm hidden
// states h, h' [B·T, C] are blended per position by a learned gate,
//   x_t = [q̄; h_t; h'_t; q̄'],   g_t = σ(W_B·W_A·dropout(x_t)),   ĥ_t = g_t ⊙ h_t + (1 − g_t) ⊙ h'_t,
// where q̄, q̄' are the means of h, h' over the sequence's prompt positions 0..<P, or, with the IMSM authors'
// placement (`IMSMGateVariant.authors`), g_t = σ(dropout(W_B·dropout(W_A·x_t))). The caller computes
// logits = ĥ·W_outᵀ with the frozen head. Forward is here, backward in IMSMGate+Backward.swift.
import Foundation
import SecuraTensor

/// Which IMSM variant runs: the method and its two ablations.
public enum IMSMMode: String, CaseIterable, Sendable, Codable {
    /// g from [q̄; h; h'; q̄']: W_A [R, 4C], W_B [C, R], 5·C·R parameters.
    case full
    /// g from [h; h'] only: W_A [R, 2C], W_B [C, R], 3·C·R parameters.
    case noQuery = "no-query"
    /// No gate: ĥ = (h + h')/2, no parameters.
    case noGate = "no-gate"

    /// Blocks of C features in the gate input: 4, 2 or 0.
    public var inputBlocks: Int {
        switch self {
        case .full: return 4
        case .noQuery: return 2
        case .noGate: return 0
        }
    }
}

/// How the gate starts and where its dropout acts: ours (LoRA's rules) or the IMSM authors' released code's.
public enum IMSMGateVariant: String, CaseIterable, Sendable, Codable {
    /// W_A ~ U(±1/√(k·C)), W_B = 0 (g = 0.5 at the start, LoRA's A and B rules) and dropout on the gate
    /// input, where PEFT puts LoRA's: g = σ(W_B·W_A·dropout(x)).
    case loraStyle = "lora-style"
    /// The authors' code (github.com/ECNU-Text-Computing/IMSM, siamese_model.py): each matrix is a torch
    /// `nn.Linear(bias=False)` followed by `nn.Dropout`, so both start at nn.Linear's default
    /// U(±1/√fan_in) (W_A: fan_in = k·C, W_B: fan_in = R) and g = σ(dropout(W_B·dropout(W_A·x))).
    case authors
}

/// The IMSM gate over final hidden states: trainable tensors "imsm.gate_A" [R, k·C] and
/// "imsm.gate_B" [C, R] (k = `mode.inputBlocks`), no bias.
///
/// Dropout (rate p, inverted, counter-based like the adapters') sits on the gate input x_t (`loraStyle`), i.e.
/// on the input of W_A as PEFT places LoRA's dropout, or on the outputs u = W_A·x [R] and z = W_B·u [C] of
/// both matrices (`authors`; the dropped z is 0, so that element's gate is 0.5). Each row t gets its own
/// mask, so the copies of q̄ and q̄' in different rows are dropped independently. Masks depend only on the
/// context's row seeds and the site keys, so they are the same for any rank count and after a resume.
///
/// **Identity when the adapter is zero.** ĥ is computed as h' + g ⊙ (h − h'), which equals
/// g ⊙ h + (1 − g) ⊙ h'. When the tuned model equals the frozen one (adapter delta zero, e.g. LoRA's
/// B = 0 at the start), h' = h and the correction term is exactly zero, so ĥ = h bit for bit for ANY gate
/// value: any W_A, W_B, dropout mask and mode (a −0 in h may come out as +0). The gate then receives
/// zero gradient (dĥ ⊙ (h − h') = 0); it starts learning once the adapter moves h' away from h.
public final class IMSMGate {
    public static let nameA = "imsm.gate_A", nameB = "imsm.gate_B"
    /// Site key of the gate's dropout. Its mix input (≥ 2⁶²) differs from every linear site's
    /// (layer << 8 | projection), and mix is bijective, so the masks are independent of the adapters'.
    public static let dropoutKey = AdapterContext.mix(0x494D_534D << 32)   // "IMSM"
    /// Site keys of the `authors` variant's dropout after W_A and after W_B (mix inputs ≥ 2⁶² as above,
    /// and distinct from each other and from `dropoutKey`'s).
    public static let dropoutKeyAfterA = AdapterContext.mix(0x494D_534D << 32 | 1)
    public static let dropoutKeyAfterB = AdapterContext.mix(0x494D_534D << 32 | 2)

    public let mode: IMSMMode
    public let variant: IMSMGateVariant
    /// C and R.
    public let width: Int, rank: Int
    /// k·C, the gate input's features.
    public let inputWidth: Int
    /// Dropout on the gate input (`loraStyle`), or after W_A and after W_B (`authors`).
    let dropout: Dropout?
    let dropoutAfterA: Dropout?, dropoutAfterB: Dropout?
    let context: AdapterContext
    /// Values and gradients of W_A and W_B; nil in `noGate` mode.
    let weights: Weights?
    typealias Weights = (a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>,
                         dA: UnsafeMutablePointer<Float>, dB: UnsafeMutablePointer<Float>)
    /// Keeps the flat buffers that `weights` point into alive.
    let storage: TrainableParameters
    // Training forwards save the (dropped-out) gate input x̃ [N, kC], u = x̃·W_Aᵀ [N, R] (dropped out for
    // `authors`) and g [N, C] for backward; other forwards use the eval buffers, so an evaluation between
    // forward and backward is harmless. `authors` training forwards also keep their two masks for backward:
    // after W_A [N, R] and after W_B [N, C], each 0 or 1/(1 − p).
    let x = Scratch(), u = Scratch(), g = Scratch()
    let maskAfterA = Scratch(), maskAfterB = Scratch()
    let xEval = Scratch(), uEval = Scratch(), gEval = Scratch()
    /// q̄, q̄' per sequence [B, 2, C] in forward; summed query gradients in backward.
    let means = Scratch()
    let dz = Scratch(), du = Scratch()
    /// Rows of the last training forward (checked by backward).
    var savedRows = 0

    /// Trainable scalars of a gate: (k + 1)·C·R, i.e. 5·C·R (full), 3·C·R (no-query) or 0 (no-gate).
    public static func parameterCount(mode: IMSMMode, width: Int, rank: Int) -> Int {
        mode == .noGate ? 0 : (mode.inputBlocks + 1) * width * rank
    }

    /// Floats of the gate's scratch after a training forward + backward and an evaluation forward over
    /// `batch` sequences of `length` rows: the gate input, u and g for training and for evaluation,
    /// their gradients, the prompt means and (`authors`) the two dropout masks (nothing for `noGate`).
    public static func scratchFloats(mode: IMSMMode, width c: Int, rank: Int, batch: Int, length: Int,
                                     variant: IMSMGateVariant = .loraStyle) -> Int {
        guard mode != .noGate else { return 0 }
        let n = batch * length
        return 2 * n * (mode.inputBlocks * c + rank + c) + n * c + n * rank + (mode == .full ? 2 * batch * c : 0)
            + (variant == .authors ? n * (rank + c) : 0)
    }

    /// Registers W_A [R, k·C] and W_B [C, R] in `layout` (nothing for `noGate`).
    public static func register(mode: IMSMMode, width: Int, rank: Int, in layout: inout ParameterLayout) {
        guard mode != .noGate else { return }
        layout.append(nameA, shape: [rank, mode.inputBlocks * width])
        layout.append(nameB, shape: [width, rank])
    }

    /// Binds to registered tensors. `dropout` is the rate p (0 disables it); `variant` says where it acts
    /// and how `initialize` draws W_B.
    /// - Precondition: `register` was called on `parameters`' layout with the same mode and sizes.
    public init(mode: IMSMMode, width: Int, rank: Int, dropout: Float = 0.1, variant: IMSMGateVariant = .loraStyle,
                parameters: TrainableParameters, context: AdapterContext) {
        self.mode = mode
        self.variant = variant
        self.width = width
        self.rank = rank
        inputWidth = mode.inputBlocks * width
        let active = dropout > 0 && mode != .noGate
        self.dropout = active && variant == .loraStyle ? Dropout(rate: dropout, siteKey: Self.dropoutKey) : nil
        dropoutAfterA = active && variant == .authors ? Dropout(rate: dropout, siteKey: Self.dropoutKeyAfterA) : nil
        dropoutAfterB = active && variant == .authors ? Dropout(rate: dropout, siteKey: Self.dropoutKeyAfterB) : nil
        self.context = context
        storage = parameters
        if mode == .noGate {
            weights = nil
        } else {
            precondition(parameters.layout.entry(Self.nameA)?.shape == [rank, inputWidth]
                         && parameters.layout.entry(Self.nameB)?.shape == [width, rank],
                         "IMSM gate tensors are not registered with mode \(mode.rawValue), C = \(width), R = \(rank)")
            let a = parameters.tensor(Self.nameA), b = parameters.tensor(Self.nameB)
            weights = (a.value, b.value, a.gradient, b.gradient)
        }
    }

    /// W_A ~ U(−1/√(k·C), 1/√(k·C)) (LoRA's A init: Kaiming-uniform with a = √5, fan_in = k·C), then
    /// `loraStyle`: W_B = 0, so the gate starts at g = 0.5 everywhere and ĥ = (h + h')/2, the no-gate output;
    /// `authors`: W_B ~ U(−1/√R, 1/√R), nn.Linear's default for fan_in = R, drawn after W_A from the same
    /// stream (the authors create linear_A first), so the gate starts at a random g.
    public func initialize(_ rng: inout SeededRandom) {
        guard let w = weights else { return }
        let bound = 1 / Float(inputWidth).squareRoot()
        for i in 0..<(rank * inputWidth) { w.a[i] = Float(rng.uniform() * 2 - 1) * bound }
        switch variant {
        case .loraStyle:
            w.b.update(repeating: 0, count: width * rank)
        case .authors:
            let boundB = 1 / Float(rank).squareRoot()
            for i in 0..<(width * rank) { w.b[i] = Float(rng.uniform() * 2 - 1) * boundB }
        }
    }

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
