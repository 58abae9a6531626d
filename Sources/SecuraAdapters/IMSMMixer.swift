// IMSM in the decoder (docs/DESIGN.md §1.10): the HiddenMixer that runs the frozen model (no adapters, the
// original weights) over the tuned model's tokens and blends the two final hidden states with the IMSM
// gate. The frozen branch runs forward only, through activations whose layers share one set of buffers,
// and stops at its final norm; the head is applied once, by the tuned model, to ĥ.
import SecuraModel
import SecuraTensor

public final class IMSMMixer: HiddenMixer {
    public let gate: IMSMGate
    /// The model without adapters, bound to the original weights (for SECURA-M1 not the merged masters).
    public let frozen: DecoderModel
    // The frozen branch's activations; training forwards use their own, so that an evaluation between a
    // training forward and its backward does not overwrite the h that the backward reads.
    private var trainActs: DecoderActivations?
    private var evalActs: DecoderActivations?

    /// - Precondition: `frozen` has no deltas and no mixer.
    public init(gate: IMSMGate, frozen: DecoderModel) {
        precondition(frozen.deltas.isEmpty && frozen.mixer == nil, "IMSM's frozen branch must be the plain model")
        precondition(frozen.config.hiddenSize == gate.width, "gate width \(gate.width) ≠ model width \(frozen.config.hiddenSize)")
        self.gate = gate
        self.frozen = frozen
    }

    public func forward(out: UnsafeMutablePointer<Float>, tuned: UnsafePointer<Float>, batch: TokenBatch, training: Bool) {
        let acts = frozenActivations(batch, training: training)
        frozen.forward(batch, into: acts, training: false, logits: false)
        gate.forward(out: out, base: acts.finalHidden.pointer, tuned: tuned, promptLengths: batch.promptLengths,
                     length: batch.length, training: training)
    }

    public func backward(dTuned: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, tuned: UnsafePointer<Float>,
                         batch: TokenBatch) {
        guard let acts = trainActs, acts.batch == batch.batch, acts.length == batch.length else {
            preconditionFailure("IMSM backward without a training forward over this batch")
        }
        // The frozen weights get no gradient: dh is not needed.
        gate.backward(dTuned: dTuned, dBase: nil, dOut: dOut, base: acts.finalHidden.pointer, tuned: tuned,
                      promptLengths: batch.promptLengths, length: batch.length)
    }

    /// The frozen branch's KV cache and the prompt means of one sequence being generated.
    final class SequenceState {
        let cache: KVCache
        /// q̄ and q̄' [C] each, fixed by the sequence's first `extend` (its prompt).
        let queryBase: FloatBuffer, queryTuned: FloatBuffer

        init(config: DecoderConfig, capacity: Int) {
            cache = KVCache(config: config, capacity: capacity)
            queryBase = FloatBuffer(count: config.hiddenSize)
            queryTuned = FloatBuffer(count: config.hiddenSize)
        }
    }

    public func extend(out: UnsafeMutablePointer<Float>, tuned: UnsafePointer<Float>, tokens: [Int32], past: Int,
                       cache: KVCache) throws {
        let state: SequenceState
        if let existing = cache.mixerState as? SequenceState, existing.cache.capacity == cache.capacity {
            state = existing
        } else {
            state = SequenceState(config: frozen.config, capacity: cache.capacity)
            cache.mixerState = state
        }
        if past == 0 { state.cache.reset() }
        guard state.cache.count == past else {
            throw MethodError.mixerCacheMismatch(frozen: state.cache.count, tuned: past)
        }
        let h = try frozen.extendHidden(state.cache, with: tokens)
        let n = tokens.count, c = gate.width
        if past == 0 {
            // The first tokens of a sequence are its prompt: q̄ and q̄' are their means, for every later token too.
            IMSMGate.promptMean(out: state.queryBase.pointer, hidden: h.pointer, promptLength: n, width: c)
            IMSMGate.promptMean(out: state.queryTuned.pointer, hidden: tuned, promptLength: n, width: c)
        }
        gate.forward(out: out, base: h.pointer, tuned: tuned, queryBase: state.queryBase.pointer,
                     queryTuned: state.queryTuned.pointer, rows: n)
    }

    private func frozenActivations(_ batch: TokenBatch, training: Bool) -> DecoderActivations {
        let current = training ? trainActs : evalActs
        if let current, current.reuse(batch: batch.batch, length: batch.length) { return current }
        let fresh = DecoderActivations(config: frozen.config, batch: batch.batch, length: batch.length,
                                       mode: .forwardOnly, logits: false)
        if training { trainActs = fresh } else { evalActs = fresh }
        return fresh
    }
}
