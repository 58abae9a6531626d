// The adapters' per-site scratch memory for a micro-batch, predicted from the config and the method
// settings alone (the same plans the AdapterSet builds), for memory reports and preflights.
import SecuraModel
import SecuraTensor

extension AdapterSet {
    /// Bytes of the scratch every delta (and IMSM's gate) holds after a training forward + backward and an
    /// evaluation forward over `batch` sequences of `length` tokens. Each site keeps its own scratch across
    /// the step, with or without activation recomputation. `--smagnorm output` is counted with a non-zero
    /// adapter (its upper bound).
    public static func scratchBytes(config c: DecoderConfig, settings s: MethodSettings, batch: Int, length: Int) -> Int {
        var layout = ParameterLayout()
        let plans = MethodPlanner.plan(c, s, layout: &layout)
        let n = batch * length
        var floats = 0
        for p in plans {
            switch s.method {
            case .lora:
                floats += LoRADelta.scratchFloats(rows: n, inFeatures: p.inFeatures, rank: p.rank, dropout: s.dropout > 0)
            case .iLoRA:
                // The long-term copy (no dropout) runs evaluation forwards only: t_eval [N, R].
                floats += LoRADelta.scratchFloats(rows: n, inFeatures: p.inFeatures, rank: p.rank, dropout: s.dropout > 0)
                floats += n * p.rank
            case .dora:
                floats += DoRADelta.scratchFloats(rows: n, inFeatures: p.inFeatures, outFeatures: p.outFeatures,
                                                  rank: p.rank, dropout: s.dropout > 0)
            case .curLoRA:
                floats += CURDelta.scratchFloats(rows: n, rank: p.rank)
            case .cabrLoRA, .securaM1, .securaM2:
                floats += CABRDelta.scratchFloats(rows: n, rank: p.rank, innerRank: p.innerRank, longTerm: s.method == .securaM2)
                if s.smagnorm == .output { floats += OutputNormalizedDelta.scratchFloats(rows: n, outFeatures: p.outFeatures) }
            case .full:
                break
            }
        }
        if let imsm = s.imsm {
            floats += IMSMGate.scratchFloats(mode: imsm.mode, width: c.hiddenSize, rank: imsm.rank, batch: batch, length: length)
        }
        return 4 * floats
    }
}
