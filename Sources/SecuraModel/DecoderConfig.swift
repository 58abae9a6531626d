// The validated shape and numerics of a decoder, resolved from a ModelConfig.
import SecuraKernels

/// The decoder families secura-dist implements.
public enum Architecture: String, Sendable, CaseIterable {
    case llama
    case qwen2
    case gemma2
}

/// The gated MLP's activation: SwiGLU (Llama, Qwen2) or GeGLU with tanh-approximated GELU (Gemma2).
public enum MLPActivation: String, Sendable {
    case silu
    case geluTanh = "gelu_pytorch_tanh"
}

/// Everything the decoder needs, with defaults applied and every number checked.
public struct DecoderConfig: Sendable, Equatable {
    public var architecture: Architecture
    /// C, F, layer count, H, KVH, D, V.
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layers: Int
    public var heads: Int
    public var kvHeads: Int
    public var headDim: Int
    public var vocabSize: Int
    public var rmsNormEps: Float
    public var ropeTheta: Double
    public var ropeScaling: RoPEScaling
    public var tieWordEmbeddings: Bool
    /// Biases on q, k, v (Qwen2 always; Llama when attention_bias).
    public var qkvBias: Bool
    /// Bias on o_proj (Llama's and Gemma2's attention_bias; never Qwen2).
    public var outputBias: Bool
    public var mlpBias: Bool
    public var maxPositions: Int
    public var mlpActivation: MLPActivation = .silu
    /// Norms scale by (normWeightOffset + w): 0 for Llama/Qwen2, 1 for Gemma2.
    public var normWeightOffset: Float = 0
    /// Gemma2's four norms per layer: the attention and MLP outputs are normed before their residual
    /// adds (post_attention_layernorm, post_feedforward_layernorm) and the MLP input by
    /// pre_feedforward_layernorm; Llama/Qwen2 have two, post_attention_layernorm being the MLP input's.
    public var sandwichNorms = false
    /// Token embeddings are multiplied by this (√C for Gemma2, rounded to fp32 as transformers does).
    public var embeddingScale: Float = 1
    /// Attention score scale; nil is 1/√D (Gemma2: query_pre_attn_scalar^−½).
    public var attentionScale: Float?
    /// Soft-caps c·tanh(x/c) of the attention scores and of the final logits; nil for none.
    public var attentionSoftcap: Float?
    public var finalSoftcap: Float?
    /// Sliding window W and which layers use it (empty: no layer does).
    public var slidingWindow: Int?
    public var slidingLayers: [Bool] = []

    /// The most layers a config may declare (real decoders have at most a few hundred).
    public static let maxLayers = 4096

    /// Resolves and validates `raw`. `path` names the config file in errors.
    public init(_ raw: ModelConfig, path: String) throws {
        let type = raw.model_type ?? "(missing)"
        guard let arch = Architecture(rawValue: type) else {
            throw ModelError.unsupportedArchitecture(path: path, found: type,
                                                     supported: Architecture.allCases.map(\.rawValue))
        }
        func required(_ value: Int?, _ key: String) throws -> Int {
            guard let value else { throw ModelError.invalidConfig(path: path, key: key, reason: "is missing") }
            guard value > 0 else { throw ModelError.invalidConfig(path: path, key: key, reason: "must be positive, found \(value)") }
            return value
        }
        architecture = arch
        hiddenSize = try required(raw.hidden_size, "hidden_size")
        intermediateSize = try required(raw.intermediate_size, "intermediate_size")
        layers = try required(raw.num_hidden_layers, "num_hidden_layers")
        // Per-layer tables are sized by this number: a corrupt one must fail here, not in an allocation.
        guard layers <= Self.maxLayers else {
            throw ModelError.invalidConfig(path: path, key: "num_hidden_layers",
                                           reason: "is \(layers); more than \(Self.maxLayers) layers is no real decoder")
        }
        heads = try required(raw.num_attention_heads, "num_attention_heads")
        kvHeads = try required(raw.num_key_value_heads ?? heads, "num_key_value_heads")
        guard heads % kvHeads == 0 else {
            throw ModelError.invalidConfig(path: path, key: "num_key_value_heads",
                                           reason: "(\(kvHeads)) must divide num_attention_heads (\(heads))")
        }
        if let d = raw.head_dim {
            headDim = try required(d, "head_dim")
        } else {
            guard hiddenSize % heads == 0 else {
                throw ModelError.invalidConfig(path: path, key: "hidden_size",
                                               reason: "(\(hiddenSize)) is not divisible by num_attention_heads (\(heads)) and no head_dim is given")
            }
            headDim = hiddenSize / heads
        }
        guard headDim % 2 == 0 else {
            throw ModelError.invalidConfig(path: path, key: "head_dim", reason: "must be even for rotary embeddings, found \(headDim)")
        }
        vocabSize = try required(raw.vocab_size, "vocab_size")
        let eps = raw.rms_norm_eps ?? 1e-6
        guard eps > 0 else { throw ModelError.invalidConfig(path: path, key: "rms_norm_eps", reason: "must be positive") }
        rmsNormEps = Float(eps)
        if arch != .gemma2, let act = raw.hidden_act, act != "silu" {
            throw ModelError.invalidConfig(path: path, key: "hidden_act", reason: "'\(act)' is not supported (only silu)")
        }
        let rope = raw.rope_parameters ?? raw.rope_scaling
        ropeTheta = rope?.rope_theta ?? raw.rope_theta ?? 10000
        guard ropeTheta > 1 else { throw ModelError.invalidConfig(path: path, key: "rope_theta", reason: "must exceed 1") }
        ropeScaling = try Self.scaling(rope, path: path)
        tieWordEmbeddings = raw.tie_word_embeddings ?? (arch == .gemma2)
        qkvBias = arch == .qwen2 || (raw.attention_bias ?? false)
        outputBias = arch != .qwen2 && (raw.attention_bias ?? false)
        mlpBias = arch == .llama && (raw.mlp_bias ?? false)
        maxPositions = raw.max_position_embeddings ?? 4096
        if arch == .gemma2 { try resolveGemma2(raw, path: path) }
    }

    static func scaling(_ rope: RopeParameters?, path: String) throws -> RoPEScaling {
        guard let rope else { return .none }
        func need(_ v: Double?, _ key: String) throws -> Double {
            guard let v, v > 0 else {
                throw ModelError.invalidConfig(path: path, key: "rope_scaling.\(key)", reason: "is missing or not positive")
            }
            return v
        }
        switch rope.kind {
        case "default":
            return .none
        case "linear":
            return .linear(factor: try need(rope.factor, "factor"))
        case "llama3":
            let low = try need(rope.low_freq_factor, "low_freq_factor")
            let high = try need(rope.high_freq_factor, "high_freq_factor")
            guard high > low else {
                throw ModelError.invalidConfig(path: path, key: "rope_scaling", reason: "needs high_freq_factor > low_freq_factor")
            }
            return .llama3(factor: try need(rope.factor, "factor"), lowFreqFactor: low, highFreqFactor: high,
                           originalMaxPositions: try need(rope.original_max_position_embeddings,
                                                          "original_max_position_embeddings"))
        default:
            throw ModelError.invalidConfig(path: path, key: "rope_scaling.rope_type",
                                           reason: "'\(rope.kind)' is not supported (default, linear, llama3)")
        }
    }

    /// The sliding window of layer l, nil when it attends to every earlier position.
    public func window(layer l: Int) -> Int? {
        l < slidingLayers.count && slidingLayers[l] ? slidingWindow : nil
    }

    /// D/2 rotary inverse frequencies for this model.
    public var inverseFrequencies: [Double] {
        RoPE.inverseFrequencies(headDim: headDim, theta: ropeTheta, scaling: ropeScaling)
    }
}
