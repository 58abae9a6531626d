// Activations saved by the decoder's forward pass for its backward pass, sized for B×T tokens,
// plus the scratch gradients the backward pass reuses from layer to layer.
import SecuraKernels
import SecuraTensor

/// A micro-batch of B right-padded sequences of T tokens.
public struct TokenBatch: Sendable {
    public let batch: Int
    public let length: Int
    /// [B·T] token ids.
    public let tokens: [Int32]
    /// [B·T] rotary positions (0..<T in each sequence).
    public let positions: [Int32]
    /// [B] prompt length P_b of each sequence: its positions before the first answer token. Only an IMSM
    /// mixer reads it (its prompt means q̄, q̄' average rows 0..<P_b); `padded` sets it from the loss masks.
    public let promptLengths: [Int]

    /// - Parameter promptLengths: P_b per sequence, each in 0...T; nil means T for every sequence (the
    ///   whole sequence is prompt, as for a sequence without answer tokens).
    /// - Precondition: `tokens.count == batch · length`, and `promptLengths` has B values in 0...T.
    public init(tokens: [Int32], batch: Int, length: Int, promptLengths: [Int]? = nil) {
        precondition(tokens.count == batch * length, "token count \(tokens.count) != \(batch)×\(length)")
        self.batch = batch
        self.length = length
        self.tokens = tokens
        positions = (0..<(batch * length)).map { Int32($0 % length) }
        let lengths = promptLengths ?? Array(repeating: length, count: batch)
        precondition(lengths.count == batch && lengths.allSatisfy { (0...length).contains($0) },
                     "prompt lengths \(lengths) for \(batch) sequences of \(length) tokens")
        self.promptLengths = lengths
    }

    public var rows: Int { batch * length }

    /// Next-token targets: row t of each sequence targets token t+1; the last row is ignored (−1).
    public var nextTokenTargets: [Int32] {
        (0..<rows).map { r in (r + 1) % length == 0 ? -1 : tokens[r + 1] }
    }
}

/// One layer's saved forward values. With Gemma2's sandwich norms, `attnOut`/`ffnOut` are o_proj's and
/// down_proj's outputs before their post-norms (rstd3, rstd4) and `ln2` is the pre-feedforward norm's
/// output; without them those four are empty and `ln2` is the post-attention norm's output.
public final class LayerActivations {
    public let ln1, rstd1, q, k, v, probs, attn, mid, ln2, rstd2, gate, up, act: FloatBuffer
    public let attnOut, rstd3, ffnOut, rstd4: FloatBuffer

    init(_ c: DecoderConfig, rows n: Int, batch: Int, length: Int) {
        let b = Self.counts(c, rows: n, batch: batch, length: length).map { FloatBuffer(count: $0) }
        ln1 = b[0]; rstd1 = b[1]; q = b[2]; k = b[3]; v = b[4]; probs = b[5]; attn = b[6]
        mid = b[7]; ln2 = b[8]; rstd2 = b[9]; gate = b[10]; up = b[11]; act = b[12]
        attnOut = b[13]; rstd3 = b[14]; ffnOut = b[15]; rstd4 = b[16]
    }

    /// Float counts of the fields in declaration order; the allocation and the memory estimate both use it.
    static func counts(_ c: DecoderConfig, rows n: Int, batch: Int, length: Int) -> [Int] {
        let hidden = n * c.hiddenSize, query = n * c.heads * c.headDim, kv = n * c.kvHeads * c.headDim
        let ffn = n * c.intermediateSize, sandwich = c.sandwichNorms ? 1 : 0
        return [hidden, n, query, kv, kv, batch * c.heads * length * length, query,
                hidden, hidden, n, ffn, ffn, ffn, sandwich * hidden, sandwich * n, sandwich * hidden, sandwich * n]
    }
}

/// All saved values of one forward pass over B×T tokens.
public final class DecoderActivations {
    /// What the activations keep of the layers, and so what `DecoderModel.backward` can do with them.
    public enum Mode: Sendable, Equatable {
        /// Every layer's saved values: the backward pass reads them as they are.
        case stored
        /// Each layer's input residual[l] and ONE set of layer values that every layer writes: the backward
        /// pass re-runs layer l's forward from residual[l] just before layer l's backward (about one more
        /// forward per step, for the activation memory of one layer instead of L).
        case recompute
        /// A forward pass only (IMSM's frozen branch, I-LoRA's long-term pass): the layers share one set
        /// and the residual stream alternates between two buffers, so memory does not grow with L;
        /// `backward` must not be called with these activations.
        case forwardOnly
    }

    public let batch: Int
    /// Tokens per sequence of the current micro-batch: at most `capacityLength` (`reuse(batch:length:)`).
    public private(set) var length: Int
    /// The length every buffer was made for; a shorter micro-batch reuses them (their leading part).
    public let capacityLength: Int
    public var rows: Int { batch * length }
    public let mode: Mode
    /// residual[l] is layer l's input [N, C]; residual[L] feeds the final norm.
    public let residual: [FloatBuffer]
    /// Layer l's saved values (with `.recompute` and `.forwardOnly`, the same object for every l).
    public let layers: [LayerActivations]
    /// Final-norm output [N, C] and its rstd [N].
    public let finalHidden, finalRstd: FloatBuffer
    /// [N, V] logits (empty when made with `logits: false`).
    public let logits: FloatBuffer
    /// [N] per-row loss (0 for ignored rows).
    public let losses: FloatBuffer
    public let rope: RoPE.Table
    /// The `training` flag of the last forward pass into these activations: a recomputed layer is
    /// re-run with it, so that adapter deltas save their backward values and draw the same dropout masks.
    public internal(set) var lastForwardTraining = false
    /// The output head's input [N, C] when the model has a mixer (ĥ); allocated on first use.
    public private(set) lazy var mixedHidden = FloatBuffer(count: batch * capacityLength * config.hiddenSize)
    private let config: DecoderConfig
    /// The backward pass's scratch gradients, made by the first backward through these activations.
    private var scratch: BackwardScratch?

    /// - Parameters:
    ///   - mode: how much of the layers is kept (`Mode`); `.stored` by default.
    ///   - logits: false when the pass stops at the final norm (`forward(…, logits: false)`).
    public init(config c: DecoderConfig, batch: Int, length: Int, mode: Mode = .stored, logits: Bool = true) {
        self.batch = batch
        self.length = length
        capacityLength = length
        self.mode = mode
        config = c
        let n = batch * length
        switch mode {
        case .stored:
            residual = (0...c.layers).map { _ in FloatBuffer(count: n * c.hiddenSize) }
            layers = (0..<c.layers).map { _ in LayerActivations(c, rows: n, batch: batch, length: length) }
        case .recompute:
            residual = (0...c.layers).map { _ in FloatBuffer(count: n * c.hiddenSize) }
            let shared = LayerActivations(c, rows: n, batch: batch, length: length)
            layers = Array(repeating: shared, count: c.layers)
        case .forwardOnly:
            // Layer l reads residual[l] and writes residual[l + 1]: two alternating buffers suffice.
            let pair = [FloatBuffer(count: n * c.hiddenSize), FloatBuffer(count: n * c.hiddenSize)]
            residual = (0...c.layers).map { pair[$0 % 2] }
            let shared = LayerActivations(c, rows: n, batch: batch, length: length)
            layers = Array(repeating: shared, count: c.layers)
        }
        finalHidden = FloatBuffer(count: n * c.hiddenSize)
        finalRstd = FloatBuffer(count: n)
        self.logits = FloatBuffer(count: logits ? n * c.vocabSize : 0)
        losses = FloatBuffer(count: n)
        rope = RoPE.Table(inverseFrequencies: c.inverseFrequencies, positions: length)
    }

    /// `forBackward: false` is `.forwardOnly`, true `.stored`.
    public convenience init(config c: DecoderConfig, batch: Int, length: Int, forBackward: Bool, logits: Bool = true) {
        self.init(config: c, batch: batch, length: length, mode: forBackward ? .stored : .forwardOnly, logits: logits)
    }

    /// Whether `DecoderModel.backward` may be called with these activations.
    public var supportsBackward: Bool { mode != .forwardOnly }

    /// Makes these activations serve micro-batches of `batch` sequences of `length` tokens, if they can: the
    /// same batch and at most the length they were made for. Every kernel lays its buffer out by the current
    /// batch and length and writes before it reads, so a shorter micro-batch uses the leading part of each
    /// buffer and computes the bits fresh activations would. Variable-length training data changes the length
    /// nearly every step; this spares remaking (and the kernel zeroing the pages of) hundreds of MB per step.
    /// - Returns: false, changing nothing, when the activations are too small (make new ones).
    public func reuse(batch: Int, length: Int) -> Bool {
        guard batch == self.batch, length >= 1, length <= capacityLength else { return false }
        self.length = length
        return true
    }

    /// The backward pass's scratch gradients for the current rows (made once, at the capacity's size;
    /// every buffer is written before it is read).
    func backwardScratch(mixer: Bool) -> BackwardScratch {
        if let scratch, scratch.dMixed != nil || !mixer { return scratch }
        let fresh = BackwardScratch(config, rows: batch * capacityLength, mixer: mixer)
        scratch = fresh
        return fresh
    }
}

/// Scratch gradients for one backward pass (reused across layers).
final class BackwardScratch {
    let dx, dln, dattn, dq, dk, dv, dact, dgate, dup, dlogits: FloatBuffer
    /// dL/dh' [N, C], the mixer's input gradient (nil without a mixer).
    let dMixed: FloatBuffer?

    init(_ c: DecoderConfig, rows n: Int, mixer: Bool) {
        let b = Self.counts(c, rows: n, mixer: mixer).map { FloatBuffer(count: $0) }
        dx = b[0]; dln = b[1]; dattn = b[2]; dq = b[3]; dk = b[4]; dv = b[5]
        dact = b[6]; dgate = b[7]; dup = b[8]; dlogits = b[9]
        dMixed = mixer ? b[10] : nil
    }

    /// Float counts of the fields in declaration order; the allocation and the memory estimate both use it.
    static func counts(_ c: DecoderConfig, rows n: Int, mixer: Bool) -> [Int] {
        let hidden = n * c.hiddenSize, query = n * c.heads * c.headDim, kv = n * c.kvHeads * c.headDim
        let ffn = n * c.intermediateSize
        return [hidden, hidden, query, query, kv, kv, ffn, ffn, ffn, n * c.vocabSize] + (mixer ? [hidden] : [])
    }
}
