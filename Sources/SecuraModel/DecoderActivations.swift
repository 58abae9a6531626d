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

/// One layer's saved forward values.
public final class LayerActivations {
    public let ln1, rstd1, q, k, v, probs, attn, mid, ln2, rstd2, gate, up, act: FloatBuffer

    init(_ c: DecoderConfig, rows n: Int, batch: Int, length: Int) {
        ln1 = FloatBuffer(count: n * c.hiddenSize)
        rstd1 = FloatBuffer(count: n)
        q = FloatBuffer(count: n * c.heads * c.headDim)
        k = FloatBuffer(count: n * c.kvHeads * c.headDim)
        v = FloatBuffer(count: n * c.kvHeads * c.headDim)
        probs = FloatBuffer(count: batch * c.heads * length * length)
        attn = FloatBuffer(count: n * c.heads * c.headDim)
        mid = FloatBuffer(count: n * c.hiddenSize)
        ln2 = FloatBuffer(count: n * c.hiddenSize)
        rstd2 = FloatBuffer(count: n)
        gate = FloatBuffer(count: n * c.intermediateSize)
        up = FloatBuffer(count: n * c.intermediateSize)
        act = FloatBuffer(count: n * c.intermediateSize)
    }
}

/// All saved values of one forward pass over B×T tokens.
public final class DecoderActivations {
    public let batch: Int
    public let length: Int
    public var rows: Int { batch * length }
    /// residual[l] is layer l's input [N, C]; residual[L] feeds the final norm.
    public let residual: [FloatBuffer]
    public let layers: [LayerActivations]
    /// Final-norm output [N, C] and its rstd [N].
    public let finalHidden, finalRstd: FloatBuffer
    /// [N, V] logits (empty when made with `logits: false`).
    public let logits: FloatBuffer
    /// [N] per-row loss (0 for ignored rows).
    public let losses: FloatBuffer
    public let rope: RoPE.Table
    /// Whether backward may use these activations (false: the layers share one set of buffers).
    public let keepsLayers: Bool
    /// The output head's input [N, C] when the model has a mixer (ĥ); allocated on first use.
    public private(set) lazy var mixedHidden = FloatBuffer(count: rows * hiddenSize)
    private let hiddenSize: Int

    /// - Parameters:
    ///   - forBackward: false for a forward-only pass (IMSM's frozen branch): every layer writes into the
    ///     same buffers and the residual stream alternates between two, so memory does not grow with L,
    ///     and `backward` must not be called with these activations.
    ///   - logits: false when the pass stops at the final norm (`forward(…, logits: false)`).
    public init(config c: DecoderConfig, batch: Int, length: Int, forBackward: Bool = true, logits: Bool = true) {
        self.batch = batch
        self.length = length
        keepsLayers = forBackward
        hiddenSize = c.hiddenSize
        let n = batch * length
        if forBackward {
            residual = (0...c.layers).map { _ in FloatBuffer(count: n * c.hiddenSize) }
            layers = (0..<c.layers).map { _ in LayerActivations(c, rows: n, batch: batch, length: length) }
        } else {
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
}

/// Scratch gradients for one backward pass (reused across layers).
final class BackwardScratch {
    let dx, dln, dattn, dq, dk, dv, dact, dgate, dup, dlogits: FloatBuffer

    init(_ c: DecoderConfig, rows n: Int) {
        dx = FloatBuffer(count: n * c.hiddenSize)
        dln = FloatBuffer(count: n * c.hiddenSize)
        dattn = FloatBuffer(count: n * c.heads * c.headDim)
        dq = FloatBuffer(count: n * c.heads * c.headDim)
        dk = FloatBuffer(count: n * c.kvHeads * c.headDim)
        dv = FloatBuffer(count: n * c.kvHeads * c.headDim)
        dact = FloatBuffer(count: n * c.intermediateSize)
        dgate = FloatBuffer(count: n * c.intermediateSize)
        dup = FloatBuffer(count: n * c.intermediateSize)
        dlogits = FloatBuffer(count: n * c.vocabSize)
    }
}
