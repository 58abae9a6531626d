// The activation memory a training step needs on one rank, per micro-batch: the decoder's activations
// and backward scratch (DecoderActivations.estimatedBytes) plus the forward-only passes some methods add.
// A pure function of the config, the method and the micro-batch shape, for memory reports and preflights.
import SecuraAdapters
import SecuraModel

public enum ActivationMemory {
    /// Bytes of activations for one training forward + backward over `microBatch` sequences of `length`
    /// tokens: the decoder's (`DecoderActivations.estimatedBytes`), IMSM's frozen branch (forward only,
    /// no logits), I-LoRA's long-term pass (forward only, with logits) and the adapters' per-site scratch
    /// (`AdapterSet.scratchBytes`; recomputation does not shrink it).
    public static func bytes(config c: DecoderConfig, settings: MethodSettings, microBatch: Int, length: Int,
                             recompute: Bool) -> Int {
        var total = DecoderActivations.estimatedBytes(config: c, batch: microBatch, length: length, recompute: recompute,
                                                      mixer: settings.imsm != nil)
        if settings.imsm != nil {
            total += DecoderActivations.allocatedBytes(config: c, batch: microBatch, length: length, mode: .forwardOnly,
                                                       logits: false)
        }
        if settings.method.definition.hasAuxiliaryPass {
            total += DecoderActivations.allocatedBytes(config: c, batch: microBatch, length: length, mode: .forwardOnly)
        }
        total += AdapterSet.scratchBytes(config: c, settings: settings, batch: microBatch, length: length)
        return total
    }
}
