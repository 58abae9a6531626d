// Bytes the decoder's activation buffers take, from the same sizes DecoderActivations, LayerActivations
// and BackwardScratch allocate: for the memory plan, before anything is allocated.
import SecuraKernels

extension DecoderActivations {
    /// fp32 elements of one layer's saved values (LayerActivations) for B×T tokens.
    static func layerFloats(_ c: DecoderConfig, batch: Int, length: Int) -> Int {
        let n = batch * length
        let qDim = c.heads * c.headDim, kvDim = c.kvHeads * c.headDim
        return n * (4 * c.hiddenSize + 2 * qDim + 2 * kvDim + 3 * c.intermediateSize + 2) + batch * c.heads * length * length
    }

    /// Bytes of a training forward and backward over one micro-batch of B×T tokens: saved activations
    /// (every layer's, or with `recompute` one layer's set plus each layer's input) and the backward
    /// scratch, logits and their gradient included.
    public static func estimatedBytes(config c: DecoderConfig, batch: Int, length: Int, recompute: Bool) -> Int {
        let n = batch * length
        let layers = recompute ? 1 : c.layers
        let saved = layers * layerFloats(c, batch: batch, length: length) + (c.layers + 1) * n * c.hiddenSize
        let finals = 2 * n * c.hiddenSize + n + n + n * c.vocabSize
        let qDim = c.heads * c.headDim, kvDim = c.kvHeads * c.headDim
        let scratch = n * (2 * c.hiddenSize + 2 * qDim + 2 * kvDim + 3 * c.intermediateSize + c.vocabSize)
        return 4 * (saved + finals + scratch)
    }

    /// Bytes of a forward-only pass (one shared layer set, two alternating residual buffers), with or
    /// without the logits.
    public static func estimatedForwardBytes(config c: DecoderConfig, batch: Int, length: Int, logits: Bool) -> Int {
        let n = batch * length
        return 4 * (layerFloats(c, batch: batch, length: length) + 2 * n * c.hiddenSize + 2 * n * c.hiddenSize + 2 * n
                    + (logits ? n * c.vocabSize : 0))
    }
}
