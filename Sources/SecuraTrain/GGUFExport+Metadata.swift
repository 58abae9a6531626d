// The model metadata of a GGUF export, with the key names, value types and order of llama.cpp's
// convert_hf_to_gguf.py (`TextModel.set_gguf_parameters` and the Llama / Qwen2 / Gemma2 overrides), so that
// llama.cpp reads the hyperparameters it needs and `GGUFModel` reads back the configuration exported.
import SecuraIO
import SecuraModel

extension GGUFExport {
    /// The `general.*` and `{arch}.*` keys of a model with `config` (`raw` supplies what DecoderConfig
    /// resolves away: Gemma2's query_pre_attn_scalar). `{arch}` is llama.cpp's architecture name, which
    /// is the same as Hugging Face's model_type for llama, qwen2 and gemma2.
    ///
    /// Beyond the converter's keys: `{arch}.vocab_size` for every architecture (the converter writes it
    /// for llama only; llama.cpp reads it when present) and, for Gemma2,
    /// `gemma2.attention.query_pre_attn_scalar`, which llama.cpp ignores (it scales by 1/√head_dim, or
    /// 1/√(C/H) for the 46-layer 27B model; real Gemma2 checkpoints agree) but `GGUFModel` reads.
    static func metadata(config c: DecoderConfig, raw: ModelConfig, name: String,
                         precision: Precision) -> [(key: String, value: GGUFValue)] {
        let arch = c.architecture.rawValue
        var keys: [(key: String, value: GGUFValue)] = [
            ("general.architecture", .string(arch)),
            ("general.type", .string("model")),
            ("general.name", .string(name)),
        ]
        func u32(_ key: String, _ v: Int) { keys.append((arch + "." + key, .uint32(UInt32(v)))) }
        func f32(_ key: String, _ v: Double) { keys.append((arch + "." + key, .float32(Float(v)))) }
        u32("block_count", c.layers)
        u32("context_length", c.maxPositions)
        u32("embedding_length", c.hiddenSize)
        u32("feed_forward_length", c.intermediateSize)
        u32("attention.head_count", c.heads)
        u32("attention.head_count_kv", c.kvHeads)
        f32("rope.freq_base", c.ropeTheta)
        f32("attention.layer_norm_rms_epsilon", Double(c.rmsNormEps))
        u32("attention.key_length", c.headDim)
        u32("attention.value_length", c.headDim)
        keys.append(("general.file_type", .uint32(precision.fileType)))
        u32("vocab_size", c.vocabSize)
        u32("rope.dimension_count", c.headDim)
        if case let .linear(factor) = c.ropeScaling {
            keys.append((arch + ".rope.scaling.type", .string("linear")))
            f32("rope.scaling.factor", factor)
        }
        if c.architecture == .gemma2 {
            if let cap = c.attentionSoftcap { keys.append(("gemma2.attn_logit_softcapping", .float32(cap))) }
            if let cap = c.finalSoftcap { keys.append(("gemma2.final_logit_softcapping", .float32(cap))) }
            if let window = c.slidingWindow { u32("attention.sliding_window", window) }
            if let scalar = raw.query_pre_attn_scalar {
                if scalar == scalar.rounded(), scalar > 0, scalar < 4e9 {
                    u32("attention.query_pre_attn_scalar", Int(scalar))
                } else {
                    f32("attention.query_pre_attn_scalar", scalar)
                }
            }
        }
        keys.append(("general.quantization_version", .uint32(2)))
        return keys
    }
}
