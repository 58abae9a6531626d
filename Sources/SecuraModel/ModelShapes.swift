// The catalogue of real model shapes `make-model` can write: each shape's config.json exactly as the
// released base model ships it on the Hugging Face Hub (keys, values, number spellings), its
// generation_config.json ids, and how many weight shards the release has. Only the weights differ.
import Foundation

/// A released model's configuration, without its weights.
public struct ModelShape: Sendable, Equatable {
    /// The catalogue name (`--shape`), e.g. "llama-3-8b".
    public var name: String
    /// The Hub repository the config comes from.
    public var source: String
    /// config.json members, Hugging Face key names.
    public var config: [String: ConfigJSON]
    /// generation_config.json members (token ids and the writing transformers version only).
    public var generationConfig: [String: ConfigJSON]
    /// Weight files of the real release (1 = a single model.safetensors).
    public var releasedShards: Int

    public init(name: String, source: String, config: [String: ConfigJSON],
                generationConfig: [String: ConfigJSON], releasedShards: Int) {
        self.name = name
        self.source = source
        self.config = config
        self.generationConfig = generationConfig
        self.releasedShards = releasedShards
    }

    /// The same widths with `layers` decoder layers (`num_hidden_layers`).
    public func withLayers(_ layers: Int) -> ModelShape {
        var copy = self
        copy.config["num_hidden_layers"] = .int(layers)
        return copy
    }

    /// config.json text, as transformers writes it (trailing newline included).
    public var configText: String { ConfigJSON.object(config).text + "\n" }

    /// generation_config.json text.
    public var generationConfigText: String { ConfigJSON.object(generationConfig).text + "\n" }

    /// The decoder this config describes, read back through the same decoding `ModelLoader` uses.
    ///
    /// - Throws: `ModelError` if the config is not one secura-dist can run (a test-made shape, say).
    public func decoderConfig() throws -> DecoderConfig {
        let path = "\(name)/config.json"
        let raw: ModelConfig
        do {
            raw = try JSONDecoder().decode(ModelConfig.self, from: Data(configText.utf8))
        } catch {
            throw ModelError.unreadableConfig(path: path, reason: "\(error)")
        }
        return try DecoderConfig(raw, path: path)
    }
}

extension ModelShape {
    /// Every shape `make-model --shape` accepts, in the order `--help` lists them.
    public static let catalogue: [ModelShape] = [llama3_8b, llama3_1_8b, llama3_2_1b, qwen2_7b, qwen2_1_5b, gemma2_2b]

    /// The catalogue shape called `name`.
    ///
    /// - Throws: `ShapedModelError.unknownShape` listing the known names.
    public static func named(_ name: String) throws -> ModelShape {
        guard let shape = catalogue.first(where: { $0.name == name }) else {
            throw ShapedModelError.unknownShape(name: name, known: catalogue.map(\.name))
        }
        return shape
    }

    /// Members shared by the Llama 3 family (meta-llama's config.json files).
    private static func llama(hidden: Int, intermediate: Int, layers: Int, heads: Int, kvHeads: Int,
                              maxPositions: Int, tied: Bool, version: String,
                              extra: [String: ConfigJSON]) -> [String: ConfigJSON] {
        var c: [String: ConfigJSON] = [
            "architectures": .array([.string("LlamaForCausalLM")]),
            "attention_bias": .bool(false), "attention_dropout": .number("0.0"),
            "bos_token_id": .int(128000), "eos_token_id": .int(128001),
            "hidden_act": .string("silu"), "hidden_size": .int(hidden), "initializer_range": .number("0.02"),
            "intermediate_size": .int(intermediate), "max_position_embeddings": .int(maxPositions),
            "model_type": .string("llama"), "num_attention_heads": .int(heads), "num_hidden_layers": .int(layers),
            "num_key_value_heads": .int(kvHeads), "pretraining_tp": .int(1), "rms_norm_eps": .number("1e-05"),
            "rope_theta": .number("500000.0"), "tie_word_embeddings": .bool(tied),
            "torch_dtype": .string("bfloat16"), "transformers_version": .string(version),
            "use_cache": .bool(true), "vocab_size": .int(128256),
        ]
        c.merge(extra) { _, new in new }
        return c
    }

    private static func llama3Scaling(factor: String) -> ConfigJSON {
        .object(["factor": .number(factor), "high_freq_factor": .number("4.0"), "low_freq_factor": .number("1.0"),
                 "original_max_position_embeddings": .int(8192), "rope_type": .string("llama3")])
    }

    private static func generation(bos: Int, eos: Int, version: String) -> [String: ConfigJSON] {
        ["bos_token_id": .int(bos), "eos_token_id": .int(eos), "transformers_version": .string(version)]
    }

    /// meta-llama/Meta-Llama-3-8B: 8,030,261,248 parameters, 4 shards.
    public static let llama3_8b = ModelShape(
        name: "llama-3-8b", source: "meta-llama/Meta-Llama-3-8B",
        config: llama(hidden: 4096, intermediate: 14336, layers: 32, heads: 32, kvHeads: 8, maxPositions: 8192,
                      tied: false, version: "4.40.0.dev0", extra: ["rope_scaling": .null]),
        generationConfig: generation(bos: 128000, eos: 128001, version: "4.40.0.dev0"), releasedShards: 4)

    /// meta-llama/Llama-3.1-8B: Llama 3's shapes with llama3 RoPE scaling (factor 8) to 128K positions.
    public static let llama3_1_8b = ModelShape(
        name: "llama-3.1-8b", source: "meta-llama/Llama-3.1-8B",
        config: llama(hidden: 4096, intermediate: 14336, layers: 32, heads: 32, kvHeads: 8, maxPositions: 131072,
                      tied: false, version: "4.43.0.dev0",
                      extra: ["mlp_bias": .bool(false), "rope_scaling": llama3Scaling(factor: "8.0")]),
        generationConfig: generation(bos: 128000, eos: 128001, version: "4.43.0.dev0"), releasedShards: 4)

    /// meta-llama/Llama-3.2-1B: 1,235,814,400 parameters, tied embeddings, one file.
    public static let llama3_2_1b = ModelShape(
        name: "llama-3.2-1b", source: "meta-llama/Llama-3.2-1B",
        config: llama(hidden: 2048, intermediate: 8192, layers: 16, heads: 32, kvHeads: 8, maxPositions: 131072,
                      tied: true, version: "4.45.0.dev0",
                      extra: ["head_dim": .int(64), "mlp_bias": .bool(false),
                              "rope_scaling": llama3Scaling(factor: "32.0")]),
        generationConfig: generation(bos: 128000, eos: 128001, version: "4.45.0.dev0"), releasedShards: 1)

    /// Members shared by Qwen2 base models (Qwen's config.json files).
    private static func qwen2(hidden: Int, intermediate: Int, heads: Int, kvHeads: Int, vocab: Int, tied: Bool,
                              version: String) -> [String: ConfigJSON] {
        [
            "architectures": .array([.string("Qwen2ForCausalLM")]), "attention_dropout": .number("0.0"),
            "bos_token_id": .int(151643), "eos_token_id": .int(151643), "hidden_act": .string("silu"),
            "hidden_size": .int(hidden), "initializer_range": .number("0.02"), "intermediate_size": .int(intermediate),
            "max_position_embeddings": .int(131072), "max_window_layers": .int(28), "model_type": .string("qwen2"),
            "num_attention_heads": .int(heads), "num_hidden_layers": .int(28), "num_key_value_heads": .int(kvHeads),
            "rms_norm_eps": .number("1e-06"), "rope_theta": .number("1000000.0"), "sliding_window": .int(131072),
            "tie_word_embeddings": .bool(tied), "torch_dtype": .string("bfloat16"),
            "transformers_version": .string(version), "use_cache": .bool(true), "use_sliding_window": .bool(false),
            "vocab_size": .int(vocab),
        ]
    }

    /// Qwen/Qwen2-7B: 7,615,616,512 parameters, q/k/v biases, untied head, 4 shards.
    public static let qwen2_7b = ModelShape(
        name: "qwen2-7b", source: "Qwen/Qwen2-7B",
        config: qwen2(hidden: 3584, intermediate: 18944, heads: 28, kvHeads: 4, vocab: 152064, tied: false,
                      version: "4.37.2"),
        generationConfig: generation(bos: 151643, eos: 151643, version: "4.37.2"), releasedShards: 4)

    /// Qwen/Qwen2-1.5B: 1,543,714,304 parameters, tied embeddings, one file.
    public static let qwen2_1_5b = ModelShape(
        name: "qwen2-1.5b", source: "Qwen/Qwen2-1.5B",
        config: qwen2(hidden: 1536, intermediate: 8960, heads: 12, kvHeads: 2, vocab: 151936, tied: true,
                      version: "4.40.1"),
        generationConfig: generation(bos: 151643, eos: 151643, version: "4.40.1"), releasedShards: 1)

    /// google/gemma-2-2b: 2,614,341,888 parameters (tied embedding counted once), float32, 3 shards.
    /// Layers 0, 2, 4, ... use the 4096-token sliding window; soft-caps 50 (attention) and 30 (logits).
    public static let gemma2_2b = ModelShape(
        name: "gemma2-2b", source: "google/gemma-2-2b",
        config: [
            "architectures": .array([.string("Gemma2ForCausalLM")]), "attention_bias": .bool(false),
            "attention_dropout": .number("0.0"), "attn_logit_softcapping": .number("50.0"), "bos_token_id": .int(2),
            "cache_implementation": .string("hybrid"), "eos_token_id": .int(1), "final_logit_softcapping": .number("30.0"),
            "head_dim": .int(256), "hidden_act": .string("gelu_pytorch_tanh"),
            "hidden_activation": .string("gelu_pytorch_tanh"), "hidden_size": .int(2304),
            "initializer_range": .number("0.02"), "intermediate_size": .int(9216), "max_position_embeddings": .int(8192),
            "model_type": .string("gemma2"), "num_attention_heads": .int(8), "num_hidden_layers": .int(26),
            "num_key_value_heads": .int(4), "pad_token_id": .int(0), "query_pre_attn_scalar": .int(256),
            "rms_norm_eps": .number("1e-06"), "rope_theta": .number("10000.0"), "sliding_window": .int(4096),
            "torch_dtype": .string("float32"), "transformers_version": .string("4.42.4"), "use_cache": .bool(true),
            "vocab_size": .int(256000),
        ],
        generationConfig: ["bos_token_id": .int(2), "cache_implementation": .string("hybrid"), "eos_token_id": .int(1),
                           "pad_token_id": .int(0), "transformers_version": .string("4.42.4")],
        releasedShards: 3)
}
