// The Llama/Qwen2/Gemma2 decoder: embedding → L × (RMSNorm, GQA attention with RoPE, residual, RMSNorm,
// gated MLP, residual) → final RMSNorm → output head, and cross-entropy on selected rows.
// Gemma2 adds (DecoderConfig): √C-scaled embeddings, (1 + w) norms, a post-norm on the attention and MLP
// outputs before each residual add, GeGLU, its own attention scale, soft-capped scores and logits, and
// sliding-window attention on alternate layers. The backward pass is in DecoderModel+Backward.swift.
import Foundation
import SecuraKernels
import SecuraTensor

/// A decoder bound to its weights. Stateless between calls: activations are passed in.
public final class DecoderModel {
    public let config: DecoderConfig
    public let weights: DecoderWeights
    /// Adapter deltas by linear site; empty for the plain model.
    public var deltas: [LinearSite: LinearDelta] = [:]
    /// Blends the final hidden states before the output head (IMSM); nil for the plain model.
    public var mixer: HiddenMixer?

    public init(config: DecoderConfig, weights: DecoderWeights) {
        self.config = config
        self.weights = weights
    }

    /// Binds `config`'s tensors from `source`, checking every shape.
    public convenience init(config: DecoderConfig, source: WeightSource) throws {
        self.init(config: config, weights: try DecoderWeights(config: config, source: source))
    }

    /// Throws unless every token id is in 0..<V.
    public func validate(_ batch: TokenBatch) throws {
        for (i, t) in batch.tokens.enumerated() where t < 0 || Int(t) >= config.vocabSize {
            throw ModelError.tokenOutOfVocabulary(token: t, position: i, vocabularySize: config.vocabSize)
        }
    }

    /// Runs the forward pass over `batch`, filling `acts` (logits included unless `logits` is false).
    /// `training` turns on adapter dropout and lets deltas and the mixer save values for `backward`.
    /// With a mixer, the head reads its blend ĥ (kept in `acts.mixedHidden`) instead of `acts.finalHidden`.
    /// - Parameter logits: false stops after the final norm (and the mixer): no V×C head product.
    /// - Precondition: `acts` was sized for the batch's B and T (with logits when `logits`), and the
    ///   tokens are validated.
    public func forward(_ batch: TokenBatch, into acts: DecoderActivations, training: Bool = false, logits: Bool = true) {
        precondition(acts.batch == batch.batch && acts.length == batch.length, "activations sized for another batch")
        precondition(!logits || acts.logits.count >= acts.rows * config.vocabSize, "activations made without logits")
        precondition(!training || acts.supportsBackward, "a training forward needs activations made for backward")
        let c = config, n = batch.rows
        acts.lastForwardTraining = training
        batch.tokens.withUnsafeBufferPointer { tok in
            Embedding.forward(out: acts.residual[0].pointer, tokens: tok.baseAddress!, table: weights.embedding,
                              rows: n, channels: c.hiddenSize, scale: c.embeddingScale)
        }
        batch.positions.withUnsafeBufferPointer { pos in
            for l in 0..<c.layers {
                layerForward(l, batch, acts, positions: pos.baseAddress!, training: training)
            }
        }
        RMSNorm.forward(out: acts.finalHidden.pointer, rstd: acts.finalRstd.pointer,
                        input: acts.residual[c.layers].pointer, weight: weights.finalNorm.pointer,
                        rows: n, channels: c.hiddenSize, eps: c.rmsNormEps, weightOffset: c.normWeightOffset)
        if let mixer {
            mixer.forward(out: acts.mixedHidden.pointer, tuned: acts.finalHidden.pointer, batch: batch, training: training)
        }
        guard logits else { return }
        head(out: acts.logits.pointer, input: headInput(acts), rows: n)
    }

    /// out[rows, V] = the output head on `input` [rows, C], then the final soft-cap if the model has one.
    func head(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, rows: Int) {
        Linear.forward(out: out, input: input, weight: weights.outputHead, bias: nil, rows: rows,
                       inFeatures: config.hiddenSize, outFeatures: config.vocabSize)
        if let cap = config.finalSoftcap { SoftCap.forward(out, count: rows * config.vocabSize, cap: cap) }
    }

    /// The attention shape of layer l (its scale, cap and window) for B×T tokens.
    func attentionShape(layer l: Int, batch: Int, tokens: Int) -> Attention.Shape {
        Attention.Shape(batch: batch, tokens: tokens, heads: config.heads, kvHeads: config.kvHeads,
                        headDim: config.headDim, scale: config.attentionScale, softcap: config.attentionSoftcap,
                        window: config.window(layer: l))
    }

    /// Decoder layer l: reads residual[l], saves its values in `acts.layers[l]` and writes residual[l + 1].
    /// The forward pass runs it for every layer; with `.recompute` activations the backward pass runs it
    /// again, with the forward's `training` flag, just before layer l's backward. Both runs compute the
    /// same values bit for bit (same inputs, same kernels, counter-based dropout masks), and each site's
    /// delta overwrites what it saved with identical values.
    func layerForward(_ l: Int, _ batch: TokenBatch, _ acts: DecoderActivations, positions pos: UnsafePointer<Int32>,
                      training: Bool) {
        let c = config, n = batch.rows, w = weights.layers[l], a = acts.layers[l]
        let cDim = c.hiddenSize, offset = c.normWeightOffset
        let shape = attentionShape(layer: l, batch: batch.batch, tokens: batch.length)
        let x = acts.residual[l].pointer
        RMSNorm.forward(out: a.ln1.pointer, rstd: a.rstd1.pointer, input: x, weight: w.inputNorm.pointer,
                        rows: n, channels: cDim, eps: c.rmsNormEps, weightOffset: offset)
        project(a.q.pointer, a.ln1.pointer, w.q, n, LinearSite(layer: l, projection: .q), training)
        project(a.k.pointer, a.ln1.pointer, w.k, n, LinearSite(layer: l, projection: .k), training)
        project(a.v.pointer, a.ln1.pointer, w.v, n, LinearSite(layer: l, projection: .v), training)
        RoPE.forward(a.q.pointer, positions: pos, table: acts.rope, rows: n, heads: c.heads)
        RoPE.forward(a.k.pointer, positions: pos, table: acts.rope, rows: n, heads: c.kvHeads)
        Attention.forward(out: a.attn.pointer, probs: a.probs.pointer, q: a.q.pointer, k: a.k.pointer,
                          v: a.v.pointer, shape: shape)
        let next = acts.residual[l + 1].pointer
        if let preNorm = w.preFeedforwardNorm, let postNorm = w.postFeedforwardNorm {
            // Gemma2: mid = x + norm(o_proj(attn)); next = mid + norm(down(·)) with the MLP reading norm(mid).
            project(a.attnOut.pointer, a.attn.pointer, w.o, n, LinearSite(layer: l, projection: .o), training)
            RMSNorm.forward(out: a.mid.pointer, rstd: a.rstd3.pointer, input: a.attnOut.pointer,
                            weight: w.postNorm.pointer, rows: n, channels: cDim, eps: c.rmsNormEps, weightOffset: offset)
            Self.addResidual(a.mid.pointer, x, n * cDim)
            RMSNorm.forward(out: a.ln2.pointer, rstd: a.rstd2.pointer, input: a.mid.pointer,
                            weight: preNorm.pointer, rows: n, channels: cDim, eps: c.rmsNormEps, weightOffset: offset)
            mlpForward(l, a, n, training)
            project(a.ffnOut.pointer, a.act.pointer, w.down, n, LinearSite(layer: l, projection: .down), training)
            RMSNorm.forward(out: next, rstd: a.rstd4.pointer, input: a.ffnOut.pointer, weight: postNorm.pointer,
                            rows: n, channels: cDim, eps: c.rmsNormEps, weightOffset: offset)
            Self.addResidual(next, a.mid.pointer, n * cDim)
            return
        }
        a.mid.pointer.update(from: x, count: n * cDim)
        project(a.mid.pointer, a.attn.pointer, w.o, n, LinearSite(layer: l, projection: .o), training, accumulate: true)
        RMSNorm.forward(out: a.ln2.pointer, rstd: a.rstd2.pointer, input: a.mid.pointer,
                        weight: w.postNorm.pointer, rows: n, channels: cDim, eps: c.rmsNormEps)
        mlpForward(l, a, n, training)
        next.update(from: a.mid.pointer, count: n * cDim)
        project(next, a.act.pointer, w.down, n, LinearSite(layer: l, projection: .down), training, accumulate: true)
    }

    /// gate and up from ln2, then act = gate-activation(gate) ⊙ up.
    private func mlpForward(_ l: Int, _ a: LayerActivations, _ n: Int, _ training: Bool) {
        let w = weights.layers[l], count = n * config.intermediateSize
        project(a.gate.pointer, a.ln2.pointer, w.gate, n, LinearSite(layer: l, projection: .gate), training)
        project(a.up.pointer, a.ln2.pointer, w.up, n, LinearSite(layer: l, projection: .up), training)
        switch config.mlpActivation {
        case .silu: SwiGLU.forward(out: a.act.pointer, gate: a.gate.pointer, up: a.up.pointer, count: count)
        case .geluTanh: GeGLU.forward(out: a.act.pointer, gate: a.gate.pointer, up: a.up.pointer, count: count)
        }
    }

    /// y[i] += x[i] for `count` values.
    static func addResidual(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ count: Int) {
        for i in 0..<count { y[i] += x[i] }
    }

    /// What the output head reads: ĥ with a mixer, else the final-norm output.
    func headInput(_ acts: DecoderActivations) -> UnsafeMutablePointer<Float> {
        mixer == nil ? acts.finalHidden.pointer : acts.mixedHidden.pointer
    }

    /// The logits [rows.count, V] of the given rows of a forward made with `logits: false` (the head applied
    /// to those rows' final hidden states, or the mixer's ĥ, then the final soft-cap): for scoring that needs
    /// a few positions of a long sequence, without the V × C product of every other row.
    /// - Precondition: every row is below `acts.rows`.
    public func headLogits(_ acts: DecoderActivations, rows: [Int]) -> FloatBuffer {
        let c = config, width = c.hiddenSize
        let input = FloatBuffer(count: rows.count * width), out = FloatBuffer(count: rows.count * c.vocabSize)
        let source = headInput(acts)
        for (i, r) in rows.enumerated() {
            precondition(r >= 0 && r < acts.rows, "headLogits: row \(r) of \(acts.rows)")
            (input.pointer + i * width).update(from: source + r * width, count: width)
        }
        if !rows.isEmpty { head(out: out.pointer, input: input.pointer, rows: rows.count) }
        return out
    }

    /// A base projection followed by the site's adapter delta, if any.
    @inline(__always)
    func project(_ out: UnsafeMutablePointer<Float>, _ input: UnsafePointer<Float>, _ w: LinearWeights, _ n: Int,
                 _ site: LinearSite, _ training: Bool, accumulate: Bool = false) {
        Linear.forward(out: out, input: input, weight: w.weight, bias: w.bias.map { UnsafePointer($0.pointer) },
                       rows: n, inFeatures: w.inFeatures, outFeatures: w.outFeatures, accumulate: accumulate)
        deltas[site]?.forward(out: out, input: input, rows: n, training: training)
    }

    /// Per-row cross-entropy of the logits in `acts` against `targets` (−1 = ignored) into `acts.losses`.
    /// - Returns: the sum of the scored rows' losses (in Double) and how many rows were scored.
    public func crossEntropy(_ acts: DecoderActivations, targets: [Int32]) -> (sum: Double, count: Int) {
        precondition(targets.count == acts.rows, "one target per row")
        let count = targets.withUnsafeBufferPointer { t in
            CrossEntropy.forward(losses: acts.losses.pointer, logits: acts.logits.pointer, targets: t.baseAddress!,
                                 rows: acts.rows, vocab: config.vocabSize)
        }
        var sum: Double = 0
        for r in 0..<acts.rows where targets[r] >= 0 { sum += Double(acts.losses.pointer[r]) }
        return (sum, count)
    }

    /// The layout of every trainable tensor of the full model, in Hugging Face names and order.
    public var parameterLayout: ParameterLayout {
        let c = config
        var layout = ParameterLayout()
        layout.append(ParameterName.embedding, shape: weights.embedding.shape)
        for (i, w) in weights.layers.enumerated() {
            layout.append(ParameterName.layer(i, "input_layernorm.weight"), shape: [c.hiddenSize])
            let linears = [w.q, w.k, w.v, w.o, w.gate, w.up, w.down]
            for (lin, p) in zip(linears, ParameterName.projections) {
                if p.short == "gate_proj" {
                    layout.append(ParameterName.layer(i, "post_attention_layernorm.weight"), shape: [c.hiddenSize])
                    if c.sandwichNorms {
                        layout.append(ParameterName.layer(i, "pre_feedforward_layernorm.weight"), shape: [c.hiddenSize])
                        layout.append(ParameterName.layer(i, "post_feedforward_layernorm.weight"), shape: [c.hiddenSize])
                    }
                }
                layout.append(ParameterName.layer(i, p.path + ".weight"), shape: lin.weight.shape)
                if lin.bias != nil { layout.append(ParameterName.layer(i, p.path + ".bias"), shape: [lin.outFeatures]) }
            }
        }
        layout.append(ParameterName.finalNorm, shape: [c.hiddenSize])
        if !c.tieWordEmbeddings { layout.append(ParameterName.outputHead, shape: weights.outputHead.shape) }
        return layout
    }

    /// Number of parameters of the model (tied head counted once): the config's count, since the bound
    /// weights were checked against the config's shapes.
    public var parameterCount: Int { config.parameterCount }
}
