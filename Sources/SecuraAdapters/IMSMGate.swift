// IMSM, the siamese gate (docs/DESIGN.md §1.10): the frozen model's and the tuned model's final-norm hidden
// states h, h' [B·T, C] are blended per position by a learned gate,
//   x_t = [q̄; h_t; h'_t; q̄'],   g_t = σ(W_B·W_A·dropout(x_t)),   ĥ_t = g_t ⊙ h_t + (1 − g_t) ⊙ h'_t,
// where q̄, q̄' are the means of h, h' over the sequence's prompt positions 0..<P, or, with the IMSM authors'
// placement (`IMSMGateVariant.authors`), g_t = σ(dropout(W_B·dropout(W_A·x_t))). The caller computes
// logits = ĥ·W_outᵀ with the frozen head. Here: the modes, the gate's state, sizes and initialisation;
// the forward pass is in IMSMGate+Forward.swift, backward in IMSMGate+Backward.swift.
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
}
