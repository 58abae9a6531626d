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
        let method = s.method.definition
        for p in plans { floats += method.scratchFloats(p, settings: s, rows: n) }
        if let imsm = s.imsm {
            floats += IMSMGate.scratchFloats(mode: imsm.mode, width: c.hiddenSize, rank: imsm.rank, batch: batch, length: length,
                                             variant: imsm.gate)
        }
        return 4 * floats
    }
}
