// How many bytes the decoder's activations and its backward scratch take, as a pure function of the
// config, the micro-batch and the length, computed from the same size tables the allocations use.
// The memory report of `train` and the preflight read it before anything large is loaded.
import SecuraKernels

extension DecoderActivations {
    /// Bytes that `DecoderActivations(config:batch:length:mode:logits:)` allocates (buffers shared between
    /// layers counted once), plus the mixer's ĥ [N, C] when `mixer` (allocated on first use).
    public static func allocatedBytes(config c: DecoderConfig, batch: Int, length: Int, mode: Mode,
                                      logits: Bool = true, mixer: Bool = false) -> Int {
        let n = batch * length
        let layer = LayerActivations.counts(c, rows: n, batch: batch, length: length).reduce(0, +)
        let residuals = mode == .forwardOnly ? 2 : c.layers + 1
        let layerSets = mode == .stored ? c.layers : 1
        var floats = residuals * n * c.hiddenSize + layerSets * layer
        floats += n * c.hiddenSize + n                  // final-norm output and rstd
        floats += logits ? n * c.vocabSize : 0
        floats += n                                     // per-row losses
        floats += mixer ? n * c.hiddenSize : 0          // ĥ
        floats += 2 * length * c.inverseFrequencies.count   // RoPE cos and sin tables
        return 4 * floats
    }

    /// Bytes of the scratch gradients one `DecoderModel.backward` call allocates (d(logits) [N, V] among them).
    public static func backwardScratchBytes(config c: DecoderConfig, batch: Int, length: Int, mixer: Bool = false) -> Int {
        4 * BackwardScratch.counts(c, rows: batch * length, mixer: mixer).reduce(0, +)
    }

    /// Bytes one training forward + backward over a micro-batch of `batch` sequences of `length` tokens
    /// needs on a rank for the decoder itself: its activations (with logits) and the backward scratch.
    /// With `recompute`, the activations keep each layer's input and one layer's values (`Mode.recompute`).
    /// Not included: the adapters' own per-site scratch, IMSM's frozen branch (`allocatedBytes` with
    /// `.forwardOnly`, no logits) and I-LoRA's long-term pass (`.forwardOnly` with logits).
    /// - Parameter mixer: the model has a mixer (IMSM): ĥ and its gradient, [N, C] each.
    public static func estimatedBytes(config c: DecoderConfig, batch: Int, length: Int, recompute: Bool,
                                      mixer: Bool = false) -> Int {
        allocatedBytes(config: c, batch: batch, length: length, mode: recompute ? .recompute : .stored, mixer: mixer)
            + backwardScratchBytes(config: c, batch: batch, length: length, mixer: mixer)
    }
}
