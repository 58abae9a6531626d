// Every tensor a decoder of a given config stores, by Hugging Face name and shape, in the order
// transformers' state dict lists them. Computed from the config alone, so `inspect`'s parameter count,
// `make-model`'s files and the parameter-count tests all walk the same table.
import SecuraTensor

extension DecoderConfig {
    /// The layout of every stored parameter (tied head counted once, as the embedding).
    ///
    /// Order: embedding; per layer q, k, v, o (each weight then bias), gate, up, down, input norm,
    /// post-attention norm (Gemma2: then pre- and post-feedforward norms) (transformers' module order);
    /// final norm; output head unless tied.
    public var parameterLayout: ParameterLayout {
        let cDim = hiddenSize, f = intermediateSize
        let qDim = heads * headDim, kvDim = kvHeads * headDim
        var layout = ParameterLayout()
        layout.append(ParameterName.embedding, shape: [vocabSize, cDim])
        for i in 0..<layers {
            let linears: [(path: String, out: Int, inFeatures: Int, bias: Bool)] = [
                ("self_attn.q_proj", qDim, cDim, qkvBias), ("self_attn.k_proj", kvDim, cDim, qkvBias),
                ("self_attn.v_proj", kvDim, cDim, qkvBias), ("self_attn.o_proj", cDim, qDim, outputBias),
                ("mlp.gate_proj", f, cDim, mlpBias), ("mlp.up_proj", f, cDim, mlpBias),
                ("mlp.down_proj", cDim, f, mlpBias),
            ]
            for l in linears {
                layout.append(ParameterName.layer(i, l.path + ".weight"), shape: [l.out, l.inFeatures])
                if l.bias { layout.append(ParameterName.layer(i, l.path + ".bias"), shape: [l.out]) }
            }
            layout.append(ParameterName.layer(i, "input_layernorm.weight"), shape: [cDim])
            layout.append(ParameterName.layer(i, "post_attention_layernorm.weight"), shape: [cDim])
            if sandwichNorms {
                layout.append(ParameterName.layer(i, "pre_feedforward_layernorm.weight"), shape: [cDim])
                layout.append(ParameterName.layer(i, "post_feedforward_layernorm.weight"), shape: [cDim])
            }
        }
        layout.append(ParameterName.finalNorm, shape: [cDim])
        if !tieWordEmbeddings { layout.append(ParameterName.outputHead, shape: [vocabSize, cDim]) }
        return layout
    }

    /// Number of stored parameters (tied head counted once).
    public var parameterCount: Int { parameterLayout.count }
}
