// Sizes a configuration declares are untrusted numbers: a corrupt config.json or GGUF header can say a
// model has 10¹¹ layers, and everything sized per layer (weight bindings, layouts, memory plans) would
// try to allocate that before any tensor is read. Two checks run before anything is sized by them:
// every size against a ceiling well above any published model (the table below), and the layer count
// against the layers whose tensors the weights actually hold.
import SecuraErrors

extension DecoderConfig {
    /// The largest value secura-dist accepts per Hugging Face key. Published models stay far below
    /// (Llama-3.1-405B: hidden 16384, FFN 53248, 126 layers, 128 heads; Gemma2: vocabulary 256000;
    /// Llama-4: a 10M-token context), so a value beyond these is a corrupt file, not a model.
    public static let sizeLimits: [String: Int] = [
        "hidden_size": 1 << 17,
        "intermediate_size": 1 << 20,
        "num_hidden_layers": 4096,
        "num_attention_heads": 1 << 12,
        "num_key_value_heads": 1 << 12,
        "head_dim": 1 << 14,
        "vocab_size": 1 << 24,
        "max_position_embeddings": 1 << 26,
        "sliding_window": 1 << 26,
    ]

    /// Throws `ModelError.configValueOutOfRange` (naming `key`, which may be a GGUF key standing for
    /// `hfKey`) when `value` exceeds the limit of `hfKey`.
    static func checkLimit(_ value: Int, hfKey: String, key: String? = nil, path: String) throws {
        guard let limit = sizeLimits[hfKey], value > limit else { return }
        throw ModelError.configValueOutOfRange(path: path, key: key ?? hfKey, value: value, limit: limit)
    }

    /// Checks the declared layer count against the weights: layer `layers − 1` must have tensors, and
    /// no more layers may be declared than the weights hold. Cheap: it reads tensor names only.
    /// - Parameters:
    ///   - tensorNames: every tensor name of the model (Hugging Face names).
    ///   - key: the key that declared the count (`num_hidden_layers`, or a GGUF `<arch>.block_count`).
    ///   - path: the file that declared it.
    /// - Throws: `ModelError.layerCountMismatch` naming the key, the file and both counts.
    public func checkLayers<Names: Sequence>(against tensorNames: Names, key: String, path: String) throws
    where Names.Element == String {
        var present = Set<Int>()
        for name in tensorNames {
            let parts = name.split(separator: ".", maxSplits: 3)
            guard parts.count > 3, parts[0] == "model", parts[1] == "layers", let layer = Int(parts[2]) else { continue }
            present.insert(layer)
        }
        guard present.count >= layers, present.contains(layers - 1) else {
            throw ModelError.layerCountMismatch(path: path, key: key, declared: layers, found: present.count)
        }
    }
}
