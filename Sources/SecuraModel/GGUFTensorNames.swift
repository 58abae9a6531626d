// GGUF tensor names (llama.cpp's) ↔ Hugging Face parameter names, for the Llama, Qwen2 and Gemma2 families.
// Gemma2 differs in its norms: llama.cpp's ffn_norm is its pre_feedforward_layernorm, and its
// post_attention_layernorm (after attention, not before the MLP) is post_attention_norm.

/// The mapping between llama.cpp's tensor names and Hugging Face's, e.g.
/// `blk.3.attn_q.weight` ↔ `model.layers.3.self_attn.q_proj.weight`.
public enum GGUFTensorNames {
    /// Whole-model tensors: (GGUF base name, Hugging Face module path).
    static let global: [(gguf: String, hf: String)] = [
        ("token_embd", "model.embed_tokens"), ("output_norm", "model.norm"), ("output", "lm_head"),
    ]

    /// Per-block tensors: (GGUF name after `blk.N.`, Hugging Face path after `model.layers.N.`).
    static let perBlock: [(gguf: String, hf: String)] = [
        ("attn_norm", "input_layernorm"), ("ffn_norm", "post_attention_layernorm"),
        ("attn_q", "self_attn.q_proj"), ("attn_k", "self_attn.k_proj"), ("attn_v", "self_attn.v_proj"),
        ("attn_output", "self_attn.o_proj"),
        ("ffn_gate", "mlp.gate_proj"), ("ffn_up", "mlp.up_proj"), ("ffn_down", "mlp.down_proj"),
    ]

    /// Gemma2's per-block norms, replacing the `ffn_norm` entry above.
    static let gemma2Norms: [(gguf: String, hf: String)] = [
        ("attn_norm", "input_layernorm"), ("post_attention_norm", "post_attention_layernorm"),
        ("ffn_norm", "pre_feedforward_layernorm"), ("post_ffw_norm", "post_feedforward_layernorm"),
    ]

    static func perBlock(_ architecture: Architecture) -> [(gguf: String, hf: String)] {
        guard architecture == .gemma2 else { return perBlock }
        return gemma2Norms + perBlock.filter { !$0.gguf.hasSuffix("_norm") }
    }

    static let suffixes = ["weight", "bias"]

    /// The Hugging Face name of GGUF tensor `name`, or nil when it has none (e.g. `rope_freqs.weight`).
    public static func huggingFace(_ name: String, architecture: Architecture = .llama) -> String? {
        let perBlock = perBlock(architecture)
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let suffix = parts.last, suffixes.contains(suffix) else { return nil }
        if parts.count == 2, let entry = global.first(where: { $0.gguf == parts[0] }) {
            return entry.hf + "." + suffix
        }
        if parts.count == 4, parts[0] == "blk", let layer = Int(parts[1]), layer >= 0, String(layer) == parts[1],
           let entry = perBlock.first(where: { $0.gguf == parts[2] }) {
            return "model.layers.\(layer).\(entry.hf).\(suffix)"
        }
        return nil
    }

    /// The GGUF name of Hugging Face parameter `name`, or nil when GGUF has no such tensor.
    public static func gguf(_ name: String, architecture: Architecture = .llama) -> String? {
        let perBlock = perBlock(architecture)
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let suffix = parts.last, suffixes.contains(suffix) else { return nil }
        let path = parts.dropLast().joined(separator: ".")
        if let entry = global.first(where: { $0.hf == path }) { return entry.gguf + "." + suffix }
        guard parts.count > 4, parts[0] == "model", parts[1] == "layers", let layer = Int(parts[2]), layer >= 0,
              String(layer) == parts[2] else { return nil }
        let inner = parts[3..<(parts.count - 1)].joined(separator: ".")
        guard let entry = perBlock.first(where: { $0.hf == inner }) else { return nil }
        return "blk.\(layer).\(entry.gguf).\(suffix)"
    }
}
