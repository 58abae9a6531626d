// The decoder's tensors bound by Hugging Face name from a WeightSource, with every shape checked.
// Large matrices stay in their file (mapped, any dtype); norms and biases are widened to fp32.
import SecuraTensor

/// Hugging Face parameter names of the Llama/Qwen2/Gemma2 decoder.
public enum ParameterName {
    public static let embedding = "model.embed_tokens.weight"
    public static let finalNorm = "model.norm.weight"
    public static let outputHead = "lm_head.weight"
    public static func layer(_ i: Int, _ suffix: String) -> String { "model.layers.\(i).\(suffix)" }
    /// The seven linear projections of a decoder layer, as (module path, short name).
    public static let projections: [(path: String, short: String)] = [
        ("self_attn.q_proj", "q_proj"), ("self_attn.k_proj", "k_proj"), ("self_attn.v_proj", "v_proj"),
        ("self_attn.o_proj", "o_proj"), ("mlp.gate_proj", "gate_proj"), ("mlp.up_proj", "up_proj"),
        ("mlp.down_proj", "down_proj"),
    ]
}

/// One linear projection: its weight view and optional fp32 bias.
public struct LinearWeights: @unchecked Sendable {
    public let weight: WeightView
    public let bias: FloatBuffer?
    public var outFeatures: Int { weight.shape[0] }
    public var inFeatures: Int { weight.shape[1] }
}

/// One decoder layer's tensors.
public struct LayerWeights: @unchecked Sendable {
    public let inputNorm: FloatBuffer
    public let q: LinearWeights, k: LinearWeights, v: LinearWeights, o: LinearWeights
    public let postNorm: FloatBuffer
    public let gate: LinearWeights, up: LinearWeights, down: LinearWeights
    /// Gemma2's pre_feedforward_layernorm and post_feedforward_layernorm (nil for Llama/Qwen2).
    public let preFeedforwardNorm: FloatBuffer?, postFeedforwardNorm: FloatBuffer?
}

/// All of a decoder's tensors.
public struct DecoderWeights: @unchecked Sendable {
    public let embedding: WeightView
    public let layers: [LayerWeights]
    public let finalNorm: FloatBuffer
    /// The output head: `embedding` itself when word embeddings are tied.
    public let outputHead: WeightView

    /// Binds and validates every tensor of `config` from `source`.
    public init(config c: DecoderConfig, source: WeightSource) throws {
        func view(_ name: String, _ shape: [Int]) throws -> WeightView {
            let v = try source.view(name)
            guard v.shape == shape else {
                throw ModelError.shapeMismatch(name: name, source: source.sourceDescription, expected: shape, found: v.shape)
            }
            return v
        }
        func vector(_ name: String, _ n: Int) throws -> FloatBuffer {
            FloatBuffer(try view(name, [n]).toFloatArray())
        }
        func linear(_ layer: Int, _ path: String, out: Int, inFeatures: Int, bias: Bool) throws -> LinearWeights {
            let w = try view(ParameterName.layer(layer, path + ".weight"), [out, inFeatures])
            let b = bias ? try vector(ParameterName.layer(layer, path + ".bias"), out) : nil
            return LinearWeights(weight: w, bias: b)
        }
        let cDim = c.hiddenSize, qDim = c.heads * c.headDim, kvDim = c.kvHeads * c.headDim
        func sandwich(_ layer: Int, _ suffix: String) throws -> FloatBuffer? {
            c.sandwichNorms ? try vector(ParameterName.layer(layer, suffix), cDim) : nil
        }
        embedding = try view(ParameterName.embedding, [c.vocabSize, cDim])
        // The layer count sizes the array below: the last layer must exist before anything is reserved.
        let lastNorm = ParameterName.layer(c.layers - 1, "input_layernorm.weight")
        guard source.contains(lastNorm) else { throw ModelError.missingTensor(name: lastNorm, source: source.sourceDescription) }
        layers = try (0..<c.layers).map { i in
            LayerWeights(
                inputNorm: try vector(ParameterName.layer(i, "input_layernorm.weight"), cDim),
                q: try linear(i, "self_attn.q_proj", out: qDim, inFeatures: cDim, bias: c.qkvBias),
                k: try linear(i, "self_attn.k_proj", out: kvDim, inFeatures: cDim, bias: c.qkvBias),
                v: try linear(i, "self_attn.v_proj", out: kvDim, inFeatures: cDim, bias: c.qkvBias),
                o: try linear(i, "self_attn.o_proj", out: cDim, inFeatures: qDim, bias: c.outputBias),
                postNorm: try vector(ParameterName.layer(i, "post_attention_layernorm.weight"), cDim),
                gate: try linear(i, "mlp.gate_proj", out: c.intermediateSize, inFeatures: cDim, bias: c.mlpBias),
                up: try linear(i, "mlp.up_proj", out: c.intermediateSize, inFeatures: cDim, bias: c.mlpBias),
                down: try linear(i, "mlp.down_proj", out: cDim, inFeatures: c.intermediateSize, bias: c.mlpBias),
                preFeedforwardNorm: try sandwich(i, "pre_feedforward_layernorm.weight"),
                postFeedforwardNorm: try sandwich(i, "post_feedforward_layernorm.weight"))
        }
        finalNorm = try vector(ParameterName.finalNorm, cDim)
        // Some tied checkpoints still store lm_head; tied means the embedding is the head regardless.
        outputHead = c.tieWordEmbeddings ? embedding : try view(ParameterName.outputHead, [c.vocabSize, cDim])
    }
}

extension DecoderWeights {
    /// The linear layer at `site`.
    public func linear(_ site: LinearSite) -> LinearWeights {
        let l = layers[site.layer]
        switch site.projection {
        case .q: return l.q
        case .k: return l.k
        case .v: return l.v
        case .o: return l.o
        case .gate: return l.gate
        case .up: return l.up
        case .down: return l.down
        }
    }
}
