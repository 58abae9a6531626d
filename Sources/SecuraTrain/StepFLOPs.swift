// The floating-point work of one training step, by part, for the benchmark's "share of the machine's
// limit": projections (every linear layer of the frozen model: forward 2·N and input-gradient backward
// 2·N per token, one more forward 2·N with recomputation; no weight gradients for adapter methods), the
// output head (part of N), attention (QKᵀ and P·V over the whole T×T square, as the kernel computes it,
// forward and two products backward), and the adapters' thin products. Element-wise work (norms, RoPE,
// SwiGLU, softmax, cross-entropy) is counted separately as memory-bound and left out of the limit.
import SecuraAdapters
import SecuraModel
import SecuraTensor

/// FLOPs per step, by part.
public struct StepFLOPs: Sendable, Codable, Equatable {
    public var projections: Double
    public var head: Double
    public var attention: Double
    public var adapters: Double
    public var total: Double { projections + head + attention + adapters }

    /// - Parameters:
    ///   - sequences: sequences in the global batch, each of `length` tokens.
    ///   - recompute: one more forward of every layer (not of the head) in the backward pass.
    ///   - weightGradients: full fine-tuning also computes dW (2·N more per token).
    public init(config c: DecoderConfig, settings: MethodSettings, sequences: Int, length: Int, recompute: Bool) {
        let tokens = Double(sequences * length)
        let qDim = c.heads * c.headDim, kvDim = c.kvHeads * c.headDim
        let perLayer = Double(c.hiddenSize * qDim + 2 * c.hiddenSize * kvDim + qDim * c.hiddenSize + 3 * c.hiddenSize * c.intermediateSize)
        let method = settings.method.definition
        let full = method.trainsBaseWeights
        // forward 2, input gradient 2, weight gradient 2 (full only), recompute 2.
        let layerFactor = 4.0 + (full ? 2 : 0) + (recompute ? 2 : 0)
        projections = layerFactor * perLayer * Double(c.layers) * tokens
        head = (4.0 + (full ? 2 : 0)) * Double(c.vocabSize * c.hiddenSize) * tokens
        // Per layer and sequence: QKᵀ and P·V forward (2·T²·H·D each), twice that backward, again with recompute.
        let square = Double(length * length) * Double(qDim) * 2
        attention = (2 + 4 + (recompute ? 2 : 0)) * square * Double(c.layers) * Double(sequences)
        var layout = ParameterLayout()
        let plans = MethodPlanner.plan(c, settings, layout: &layout)
        var adapterPerToken = 0.0
        for p in plans where !full {
            // The chain's multiply-adds per token (x·Rᵀ, ·Bᵀ, ·Aᵀ, ·Cᵀ for CABR; x·Aᵀ, ·Bᵀ for LoRA; x·Rᵀ, ·Uᵀ, ·Cᵀ for CUR).
            let chain = method.chainMultiplyAdds(p)
            // forward, then input and parameter gradients (about twice the forward), once more with recompute.
            adapterPerToken += 2 * chain * (3 + (recompute ? 1 : 0))
        }
        adapters = adapterPerToken * tokens
    }
}
