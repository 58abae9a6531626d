// Builds a Hugging Face-keyed ModelConfig from a GGUF file's `llama.*` / `qwen2.*` / `gemma2.*` metadata, the way
// llama.cpp reads it: key_length is the head dimension when present, the vocabulary is the row count
// of token_embd (checked against the token list), the head is tied when there is no output.weight,
// and RoPE scaling comes from `rope.scaling.*` keys or the `rope_freqs.weight` tensor.
import SecuraIO

extension GGUFModel {
    /// The architectures this loader maps, with their Hugging Face class names.
    static let architectureClasses: [Architecture: String] = [
        .llama: "LlamaForCausalLM", .qwen2: "Qwen2ForCausalLM", .gemma2: "Gemma2ForCausalLM",
    ]

    /// The architecture named by `general.architecture`.
    /// - Throws: `ModelError.invalidConfig` when it is missing or not llama / qwen2 / gemma2.
    static func architecture(of file: GGUFFile) throws -> Architecture {
        let key = "general.architecture"
        guard let name = try file.string(key) else {
            throw ModelError.invalidConfig(path: file.path, key: key, reason: "is missing")
        }
        guard let arch = Architecture(rawValue: name) else {
            let supported = Architecture.allCases.map(\.rawValue).joined(separator: ", ")
            throw ModelError.invalidConfig(path: file.path, key: key, reason: "'\(name)' is not supported (supported: \(supported))")
        }
        return arch
    }

    /// The Hugging Face key each bounded GGUF key (after `<arch>.`) stands for.
    static let hfKeys = [
        "embedding_length": "hidden_size", "feed_forward_length": "intermediate_size", "block_count": "num_hidden_layers",
        "attention.head_count": "num_attention_heads",
    ]

    /// The configuration `file` describes, with Hugging Face key names.
    /// - Throws: `ModelError.invalidConfig` naming the GGUF key, or `GGUFError.wrongValueType`.
    static func makeConfig(_ file: GGUFFile, architecture arch: Architecture) throws -> ModelConfig {
        let path = file.path
        let prefix = arch.rawValue + "."
        func invalid(_ key: String, _ reason: String) -> ModelError { .invalidConfig(path: path, key: key, reason: reason) }
        func required(_ name: String) throws -> Int {
            guard let v = try file.int(prefix + name) else { throw invalid(prefix + name, "is missing") }
            guard v > 0 else { throw invalid(prefix + name, "must be positive, found \(v)") }
            if let hfKey = hfKeys[name] { try DecoderConfig.checkLimit(v, hfKey: hfKey, key: prefix + name, path: path) }
            return v
        }

        var c = ModelConfig()
        c.model_type = arch.rawValue
        c.architectures = architectureClasses[arch].map { [$0] }
        c.hidden_act = "silu"
        c.hidden_size = try required("embedding_length")
        c.intermediate_size = try required("feed_forward_length")
        c.num_hidden_layers = try required("block_count")
        let heads = try required("attention.head_count")
        c.num_attention_heads = heads
        c.num_key_value_heads = try kvHeads(file, key: prefix + "attention.head_count_kv") ?? heads
        c.max_position_embeddings = try file.int(prefix + "context_length")

        let keyLength = try file.int(prefix + "attention.key_length")
        if let keyLength, let valueLength = try file.int(prefix + "attention.value_length"), valueLength != keyLength {
            throw invalid(prefix + "attention.value_length", "(\(valueLength)) differs from key_length (\(keyLength)); not supported")
        }
        c.head_dim = keyLength
        let headDim = keyLength ?? c.hidden_size! / heads
        if let rotary = try file.int(prefix + "rope.dimension_count"), rotary != headDim {
            throw invalid(prefix + "rope.dimension_count", "(\(rotary)) differs from the head dimension (\(headDim)): partial rotary embeddings are not supported")
        }

        guard let eps = try file.double(prefix + "attention.layer_norm_rms_epsilon") else {
            throw invalid(prefix + "attention.layer_norm_rms_epsilon", "is missing")
        }
        c.rms_norm_eps = eps
        let theta = try file.double(prefix + "rope.freq_base") ?? 10000
        c.rope_theta = theta
        c.rope_scaling = try ropeScaling(file, prefix: prefix, theta: theta, headDim: headDim)

        c.vocab_size = try vocabularySize(file, prefix: prefix, hidden: c.hidden_size!)
        c.tie_word_embeddings = !file.contains("output.weight")
        if arch == .llama {
            c.attention_bias = file.contains("blk.0.attn_q.bias")
            c.mlp_bias = file.contains("blk.0.ffn_gate.bias")
        }
        if arch == .gemma2 { try gemma2Keys(file, into: &c, headDim: headDim) }
        c.bos_token_id = try file.int("tokenizer.ggml.bos_token_id").map { TokenIDs([$0]) }
        c.eos_token_id = try file.int("tokenizer.ggml.eos_token_id").map { TokenIDs([$0]) }
        return c
    }

    /// Gemma2's keys as convert_hf_to_gguf.py writes them: `gemma2.attn_logit_softcapping`,
    /// `gemma2.final_logit_softcapping`, `gemma2.attention.sliding_window`. The converter drops
    /// query_pre_attn_scalar; like llama.cpp, the scale then comes from head_dim, except for the 46-layer
    /// 27B model (C/H = 144). A `gemma2.attention.query_pre_attn_scalar` key, when present, wins.
    private static func gemma2Keys(_ file: GGUFFile, into c: inout ModelConfig, headDim: Int) throws {
        c.hidden_activation = "gelu_pytorch_tanh"
        c.hidden_act = nil
        c.attn_logit_softcapping = try file.double("gemma2.attn_logit_softcapping")
        c.final_logit_softcapping = try file.double("gemma2.final_logit_softcapping")
        guard let window = try file.int("gemma2.attention.sliding_window") else {
            throw ModelError.invalidConfig(path: file.path, key: "gemma2.attention.sliding_window", reason: "is missing")
        }
        c.sliding_window = window
        if let scalar = try file.double("gemma2.attention.query_pre_attn_scalar") {
            c.query_pre_attn_scalar = scalar
        } else {
            let layers = c.num_hidden_layers ?? 0, heads = c.num_attention_heads ?? 1
            c.query_pre_attn_scalar = Double(layers == 46 ? c.hidden_size! / heads : headDim)
        }
    }

    /// head_count_kv: one integer, or one per layer (accepted when all layers agree).
    private static func kvHeads(_ file: GGUFFile, key: String) throws -> Int? {
        guard let value = file.value(key) else { return nil }
        if case .array = value {
            let perLayer = try file.intArray(key) ?? []
            guard let first = perLayer.first, perLayer.allSatisfy({ $0 == first }) else {
                throw ModelError.invalidConfig(path: file.path, key: key, reason: "differs between layers \(perLayer.prefix(8)); not supported")
            }
            return first
        }
        return try file.int(key)
    }

    /// The model's V: token_embd's row count, which must agree with the token list and `vocab_size`.
    private static func vocabularySize(_ file: GGUFFile, prefix: String, hidden: Int) throws -> Int {
        let name = "token_embd.weight"
        guard let embedding = file.tensor(name) else {
            throw ModelError.missingTensor(name: name, source: file.path)
        }
        guard embedding.dimensions.count == 2, embedding.dimensions[0] == hidden, embedding.dimensions[1] > 0 else {
            throw ModelError.invalidConfig(path: file.path, key: name,
                                           reason: "has ggml dimensions \(embedding.dimensions), expected [\(hidden), vocabulary size]")
        }
        let rows = embedding.dimensions[1]
        if let tokens = file.value("tokenizer.ggml.tokens")?.arrayValues, tokens.count != rows {
            throw ModelError.invalidConfig(path: file.path, key: "tokenizer.ggml.tokens",
                                           reason: "has \(tokens.count) tokens but \(name) has \(rows) rows")
        }
        if let declared = try file.int(prefix + "vocab_size"), declared != rows {
            throw ModelError.invalidConfig(path: file.path, key: prefix + "vocab_size",
                                           reason: "is \(declared) but \(name) has \(rows) rows")
        }
        return rows
    }

    /// `rope.scaling.type` / `rope.scaling.factor`, the older `rope.scale_linear`, or `rope_freqs.weight`.
    private static func ropeScaling(_ file: GGUFFile, prefix: String, theta: Double, headDim: Int) throws -> RopeParameters? {
        var result: RopeParameters?
        let typeKey = prefix + "rope.scaling.type"
        switch try file.string(typeKey) {
        case nil, "none":
            if let linear = try file.double(prefix + "rope.scale_linear"), linear != 1 {
                result = RopeParameters(rope_type: "linear", factor: linear)
            }
        case "linear":
            guard let factor = try file.double(prefix + "rope.scaling.factor"), factor > 0 else {
                throw ModelError.invalidConfig(path: file.path, key: prefix + "rope.scaling.factor", reason: "is missing or not positive")
            }
            result = RopeParameters(rope_type: "linear", factor: factor)
        case let other?:
            throw ModelError.invalidConfig(path: file.path, key: typeKey, reason: "'\(other)' is not supported (none, linear, or llama3 via rope_freqs.weight)")
        }
        if file.contains("rope_freqs.weight") {
            let factors = try file.floats("rope_freqs.weight").map(Double.init)
            if let fitted = try GGUFRopeFactors.scaling(factors: factors, theta: theta, headDim: headDim, path: file.path) {
                guard result == nil else {
                    throw ModelError.invalidConfig(path: file.path, key: "rope_freqs.weight",
                                                   reason: "is present together with \(typeKey); only one RoPE scaling is supported")
                }
                result = fitted
            }
        }
        return result
    }
}
