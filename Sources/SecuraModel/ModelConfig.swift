// config.json of a Hugging Face decoder, decoded with Hugging Face's own key names.
// Both transformers 4.x (`rope_theta`, `rope_scaling`) and 5.x (`rope_parameters`) spellings load.
import Foundation
import SecuraIO

/// The raw `config.json` of a Llama, Qwen2 or Gemma2 model, keys as transformers writes them.
public struct ModelConfig: Codable, Sendable, Equatable {
    public var model_type: String?
    public var architectures: [String]?
    public var hidden_size: Int?
    public var intermediate_size: Int?
    public var num_hidden_layers: Int?
    public var num_attention_heads: Int?
    public var num_key_value_heads: Int?
    public var head_dim: Int?
    public var vocab_size: Int?
    public var rms_norm_eps: Double?
    public var rope_theta: Double?
    public var rope_scaling: RopeParameters?
    public var rope_parameters: RopeParameters?
    public var tie_word_embeddings: Bool?
    public var attention_bias: Bool?
    public var mlp_bias: Bool?
    public var max_position_embeddings: Int?
    public var hidden_act: String?
    /// Gemma2's MLP activation (transformers reads this key, not `hidden_act`, for Gemma2).
    public var hidden_activation: String?
    /// Gemma2: attention scores are scaled by query_pre_attn_scalar^−½ instead of head_dim^−½.
    public var query_pre_attn_scalar: Double?
    /// Gemma2: c in c·tanh(x/c) on attention scores and on the final logits; null turns one off.
    public var attn_logit_softcapping: Double?
    public var final_logit_softcapping: Double?
    /// Gemma2's window W (Qwen2 writes it too, unused there) and the per-layer kinds
    /// ("sliding_attention" / "full_attention") that newer transformers writes.
    public var sliding_window: Int?
    public var layer_types: [String]?
    public var bos_token_id: TokenIDs?
    public var eos_token_id: TokenIDs?
    public var torch_dtype: String?
    public var dtype: String?

    public init() {}

    /// Reads and decodes `config.json`.
    /// - Throws: `ModelError.unreadableConfig` naming the file and the decoding problem.
    public static func load(from url: URL) throws -> ModelConfig {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ModelError.missingFile(path: url.path, what: "model configuration (config.json)")
        }
        return try decode(data, path: url.path)
    }

    /// Decodes the bytes of a `config.json`; `path` names it in errors.
    /// - Throws: `ModelError.unreadableConfig` naming the file and the decoding problem.
    public static func decode(_ data: Data, path: String) throws -> ModelConfig {
        do {
            return try JSONDecoder().decode(ModelConfig.self, from: data)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw ModelError.unreadableConfig(path: path, reason: "key '\(key)': \(context.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) {
            // Foundation says only "not valid JSON" (also for a number it cannot hold) and names no key for
            // a fraction where a whole number belongs.
            if let problem = JSONFractionLocator.placedProblem(ModelConfig.self, in: data) {
                throw ModelError.unreadableConfig(path: path, reason: "\(problem)")
            }
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw ModelError.unreadableConfig(path: path, reason: key.isEmpty
                ? "a value does not fit its key's type (\(context.debugDescription))"
                : "key '\(key)': \(context.debugDescription)")
        } catch {
            throw ModelError.unreadableConfig(path: path, reason: "\(error)")
        }
    }
}

/// `rope_scaling` (4.x) or `rope_parameters` (5.x). 5.x also carries `rope_theta` inside.
public struct RopeParameters: Codable, Sendable, Equatable {
    public var rope_type: String?
    /// Older configs spell `rope_type` as `type`.
    public var type: String?
    public var rope_theta: Double?
    public var factor: Double?
    public var low_freq_factor: Double?
    public var high_freq_factor: Double?
    public var original_max_position_embeddings: Double?

    public init(rope_type: String? = nil, rope_theta: Double? = nil, factor: Double? = nil,
                low_freq_factor: Double? = nil, high_freq_factor: Double? = nil,
                original_max_position_embeddings: Double? = nil) {
        self.rope_type = rope_type
        self.rope_theta = rope_theta
        self.factor = factor
        self.low_freq_factor = low_freq_factor
        self.high_freq_factor = high_freq_factor
        self.original_max_position_embeddings = original_max_position_embeddings
    }

    /// The rope type, whichever key spelled it ("default" when absent).
    public var kind: String { rope_type ?? type ?? "default" }
}

/// A token id field that may be one id or a list of ids (`eos_token_id` is either).
public struct TokenIDs: Codable, Sendable, Equatable {
    public var ids: [Int]
    public init(_ ids: [Int]) { self.ids = ids }
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let one = try? c.decode(Int.self) { ids = [one] } else { ids = try c.decode([Int].self) }
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if ids.count == 1 { try c.encode(ids[0]) } else { try c.encode(ids) }
    }
}
