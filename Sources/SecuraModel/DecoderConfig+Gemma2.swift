// Gemma2's numerics, resolved from config.json with the defaults of transformers' Gemma2Config.
//
// Which layers slide: transformers' Gemma2 marks layer i "sliding_attention" when i is even (layer 0
// slides, layer 1 is global, ...), both in the `layer_types` list newer versions write into config.json
// and in older versions' `not bool(layer_idx % 2)`; llama.cpp's swa pattern 2 agrees. A written
// `layer_types` list is used as it is.

extension DecoderConfig {
    mutating func resolveGemma2(_ raw: ModelConfig, path: String) throws {
        func invalid(_ key: String, _ reason: String) -> ModelError { .invalidConfig(path: path, key: key, reason: reason) }
        let act = raw.hidden_activation ?? "gelu_pytorch_tanh"
        guard let activation = MLPActivation(rawValue: act), activation == .geluTanh else {
            throw invalid("hidden_activation", "'\(act)' is not supported for gemma2 (only gelu_pytorch_tanh)")
        }
        mlpActivation = activation
        normWeightOffset = 1
        sandwichNorms = true
        embeddingScale = Float(Double(hiddenSize).squareRoot())
        let scalar = raw.query_pre_attn_scalar ?? 256
        guard scalar > 0 else { throw invalid("query_pre_attn_scalar", "must be positive, found \(scalar)") }
        attentionScale = Float(1 / scalar.squareRoot())
        func cap(_ value: Double?, _ key: String) throws -> Float? {
            guard let value else { return nil }
            guard value > 0 else { throw invalid(key, "must be positive or null, found \(value)") }
            return Float(value)
        }
        attentionSoftcap = try cap(raw.attn_logit_softcapping, "attn_logit_softcapping")
        finalSoftcap = try cap(raw.final_logit_softcapping, "final_logit_softcapping")
        let window = raw.sliding_window ?? 4096
        guard window > 0 else { throw invalid("sliding_window", "must be positive, found \(window)") }
        try Self.checkLimit(window, hfKey: "sliding_window", path: path)
        slidingWindow = window
        if let types = raw.layer_types {
            guard types.count == layers else {
                throw invalid("layer_types", "has \(types.count) entries for \(layers) layers")
            }
            slidingLayers = try types.map { kind in
                switch kind {
                case "sliding_attention": return true
                case "full_attention": return false
                default: throw invalid("layer_types", "'\(kind)' is not supported (sliding_attention, full_attention)")
                }
            }
        } else {
            slidingLayers = (0..<layers).map { $0 % 2 == 0 }
        }
    }
}
