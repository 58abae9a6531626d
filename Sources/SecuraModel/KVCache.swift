// Keys and values of every layer for the tokens seen so far (one sequence), and the incremental
// forward pass that generation runs over it: prefill a prompt, then one token at a time.
import SecuraKernels
import SecuraTensor

/// Per-layer key/value rows [capacity, KVH·D] for positions 0..<count.
public final class KVCache {
    public let capacity: Int
    public internal(set) var count = 0
    let keys: [FloatBuffer]
    let values: [FloatBuffer]
    let rope: RoPE.Table
    /// The model's mixer's own state for this sequence (IMSM: the frozen branch's cache and the prompt
    /// means); nil until the mixer first sees the sequence.
    public var mixerState: AnyObject?

    /// A cache for up to `capacity` positions of `config`'s model.
    public init(config c: DecoderConfig, capacity: Int) {
        self.capacity = capacity
        keys = (0..<c.layers).map { _ in FloatBuffer(count: capacity * c.kvHeads * c.headDim) }
        values = (0..<c.layers).map { _ in FloatBuffer(count: capacity * c.kvHeads * c.headDim) }
        rope = RoPE.Table(inverseFrequencies: c.inverseFrequencies, positions: capacity)
    }

    /// Forgets every position (the buffers are reused).
    public func reset() { count = 0 }
}

extension DecoderModel {
    /// Feeds `tokens` (positions cache.count…) through the model, appending their keys and values
    /// to `cache`, and returns the logits [V] of the last token. With a mixer, the head reads its ĥ.
    /// - Throws: when the cache is full or a token is outside the vocabulary.
    public func extend(_ cache: KVCache, with tokens: [Int32]) throws -> [Float] {
        let c = config, cDim = c.hiddenSize, n = tokens.count
        let past = cache.count
        var hidden = try extendHidden(cache, with: tokens)
        if let mixer {
            let mixed = FloatBuffer(count: n * cDim)
            try mixer.extend(out: mixed.pointer, tuned: hidden.pointer, tokens: tokens, past: past, cache: cache)
            hidden = mixed
        }
        // Only the last row's logits are needed.
        let logits = FloatBuffer(count: c.vocabSize)
        head(out: logits.pointer, input: hidden.pointer + (n - 1) * cDim, rows: 1)
        return logits.toArray()
    }

    /// Feeds `tokens` (positions cache.count…) through the layers and the final norm, appending their keys
    /// and values to `cache`, and returns their final-norm hidden states [n, C] (no mixer, no head).
    /// - Throws: when the cache is full or a token is outside the vocabulary.
    public func extendHidden(_ cache: KVCache, with tokens: [Int32]) throws -> FloatBuffer {
        let c = config, n = tokens.count, past = cache.count
        guard n > 0 else { throw ModelError.nothingToFeed }
        guard past + n <= cache.capacity else {
            throw ModelError.cacheFull(tokens: past + n, capacity: cache.capacity)
        }
        try validate(TokenBatch(tokens: tokens, batch: 1, length: n))
        let cDim = c.hiddenSize, qDim = c.heads * c.headDim, kvDim = c.kvHeads * c.headDim, f = c.intermediateSize
        let x = FloatBuffer(count: n * cDim), ln = FloatBuffer(count: n * cDim), rstd = FloatBuffer(count: n)
        let q = FloatBuffer(count: n * qDim), attn = FloatBuffer(count: n * qDim)
        let gate = FloatBuffer(count: n * f), up = FloatBuffer(count: n * f)
        let branch = FloatBuffer(count: c.sandwichNorms ? n * cDim : 0), offset = c.normWeightOffset
        let scores = FloatBuffer(count: n * (past + n))
        let positions = (0..<n).map { Int32(past + $0) }
        tokens.withUnsafeBufferPointer { tok in
            Embedding.forward(out: x.pointer, tokens: tok.baseAddress!, table: weights.embedding, rows: n, channels: cDim,
                              scale: c.embeddingScale)
        }
        positions.withUnsafeBufferPointer { posBuffer in
            let pos = posBuffer.baseAddress!
            for (l, w) in weights.layers.enumerated() {
                let kRows = cache.keys[l].pointer + past * kvDim, vRows = cache.values[l].pointer + past * kvDim
                RMSNorm.forward(out: ln.pointer, rstd: rstd.pointer, input: x.pointer, weight: w.inputNorm.pointer,
                                rows: n, channels: cDim, eps: c.rmsNormEps, weightOffset: offset)
                project(q.pointer, ln.pointer, w.q, n, LinearSite(layer: l, projection: .q), false)
                project(kRows, ln.pointer, w.k, n, LinearSite(layer: l, projection: .k), false)
                project(vRows, ln.pointer, w.v, n, LinearSite(layer: l, projection: .v), false)
                RoPE.forward(q.pointer, positions: pos, table: cache.rope, rows: n, heads: c.heads)
                RoPE.forward(kRows, positions: pos, table: cache.rope, rows: n, heads: c.kvHeads)
                Attention.forwardCached(out: attn.pointer, scores: scores.pointer, q: q.pointer,
                                        kCache: cache.keys[l].pointer, vCache: cache.values[l].pointer,
                                        newRows: n, past: past, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim,
                                        scale: c.attentionScale, softcap: c.attentionSoftcap, window: c.window(layer: l))
                // Gemma2 norms each branch's output before its residual add (post-norm, as in layerForward).
                func residualAdd(_ projection: Projection, _ input: FloatBuffer, _ postNorm: FloatBuffer?) {
                    let site = LinearSite(layer: l, projection: projection), weight = weights.linear(site)
                    guard let postNorm else {
                        project(x.pointer, input.pointer, weight, n, site, false, accumulate: true)
                        return
                    }
                    project(branch.pointer, input.pointer, weight, n, site, false)
                    RMSNorm.forward(out: branch.pointer, rstd: rstd.pointer, input: branch.pointer, weight: postNorm.pointer,
                                    rows: n, channels: cDim, eps: c.rmsNormEps, weightOffset: offset)
                    Self.addResidual(x.pointer, branch.pointer, n * cDim)
                }
                residualAdd(.o, attn, c.sandwichNorms ? w.postNorm : nil)
                RMSNorm.forward(out: ln.pointer, rstd: rstd.pointer, input: x.pointer,
                                weight: (w.preFeedforwardNorm ?? w.postNorm).pointer,
                                rows: n, channels: cDim, eps: c.rmsNormEps, weightOffset: offset)
                project(gate.pointer, ln.pointer, w.gate, n, LinearSite(layer: l, projection: .gate), false)
                project(up.pointer, ln.pointer, w.up, n, LinearSite(layer: l, projection: .up), false)
                switch c.mlpActivation {
                case .silu: SwiGLU.forward(out: gate.pointer, gate: gate.pointer, up: up.pointer, count: n * f)
                case .geluTanh: GeGLU.forward(out: gate.pointer, gate: gate.pointer, up: up.pointer, count: n * f)
                }
                residualAdd(.down, gate, w.postFeedforwardNorm)
            }
        }
        cache.count = past + n
        RMSNorm.forward(out: ln.pointer, rstd: rstd.pointer, input: x.pointer, weight: weights.finalNorm.pointer,
                        rows: n, channels: cDim, eps: c.rmsNormEps, weightOffset: offset)
        return ln
    }
}
