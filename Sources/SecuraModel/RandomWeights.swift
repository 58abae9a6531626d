// Random decoder weights for benchmarks and tests: a model of any shape without a file.
import SecuraTensor

extension InMemoryWeights {
    /// Weights for `config` drawn with `seed`: linear weights ~ N(0, 1/fan_in), embeddings ~ N(0, std),
    /// norm scales ~ 1 + 0.1·N(0, 1) (Gemma2 stores the 0.1·N(0, 1) deviation), biases ~ 0.1·N(0, 1).
    public static func random(config c: DecoderConfig, seed: UInt64, embeddingStd: Float = 1) -> InMemoryWeights {
        var rng = SeededRandom(seed: seed)
        let w = InMemoryWeights(description: "random \(c.architecture.rawValue) weights (seed \(seed))")
        func matrix(_ name: String, _ rows: Int, _ cols: Int, std: Float) {
            w.set(name, shape: [rows, cols], values: rng.normals(rows * cols, std: std))
        }
        func vector(_ name: String, _ n: Int, around center: Float, std: Float) {
            w.set(name, shape: [n], values: rng.normals(n, std: std).map { $0 + center })
        }
        let norm: Float = 1 - c.normWeightOffset
        let cDim = c.hiddenSize, qDim = c.heads * c.headDim, kvDim = c.kvHeads * c.headDim, f = c.intermediateSize
        matrix(ParameterName.embedding, c.vocabSize, cDim, std: embeddingStd)
        for i in 0..<c.layers {
            vector(ParameterName.layer(i, "input_layernorm.weight"), cDim, around: norm, std: 0.1)
            vector(ParameterName.layer(i, "post_attention_layernorm.weight"), cDim, around: norm, std: 0.1)
            if c.sandwichNorms {
                vector(ParameterName.layer(i, "pre_feedforward_layernorm.weight"), cDim, around: norm, std: 0.1)
                vector(ParameterName.layer(i, "post_feedforward_layernorm.weight"), cDim, around: norm, std: 0.1)
            }
            let shapes: [(String, Int, Int, Bool)] = [
                ("self_attn.q_proj", qDim, cDim, c.qkvBias), ("self_attn.k_proj", kvDim, cDim, c.qkvBias),
                ("self_attn.v_proj", kvDim, cDim, c.qkvBias), ("self_attn.o_proj", cDim, qDim, c.outputBias),
                ("mlp.gate_proj", f, cDim, c.mlpBias), ("mlp.up_proj", f, cDim, c.mlpBias),
                ("mlp.down_proj", cDim, f, c.mlpBias),
            ]
            for (path, out, inF, bias) in shapes {
                matrix(ParameterName.layer(i, path + ".weight"), out, inF, std: 1 / Float(inF).squareRoot())
                if bias { vector(ParameterName.layer(i, path + ".bias"), out, around: 0, std: 0.1) }
            }
        }
        vector(ParameterName.finalNorm, cDim, around: norm, std: 0.1)
        if !c.tieWordEmbeddings { matrix(ParameterName.outputHead, c.vocabSize, cDim, std: 1 / Float(cDim).squareRoot()) }
        return w
    }
}
