// I-LoRA as a method: LoRA sites (working memory) plus a long-term EMA copy of the whole trainable buffer
// (long ← λ·long + (1 − λ)·working after every update) read by LoRA deltas of its own, and a consistency
// term w·MSE(logits_work, logits_long) from a second, forward-only pass with the long-term deltas.
import SecuraModel
import SecuraTensor

public struct ILoRAMethod: FineTuningMethod {
    public init() {}
    public var displayName: String { "I-LoRA" }

    public func register(_ site: LinearSite, outFeatures h: Int, inFeatures d: Int, settings s: MethodSettings,
                         in layout: inout ParameterLayout) -> (rank: Int, innerRank: Int) {
        LoRAMethod().register(site, outFeatures: h, inFeatures: d, settings: s, in: &layout)
    }

    public func makeSite(_ plan: SitePlan, original: WeightView, build b: MethodBuild) throws -> MethodSite {
        try LoRAMethod().makeSite(plan, original: original, build: b)
    }

    public func makeRunState(_ b: MethodBuild, sites: [LinearSite: MethodSite]) -> MethodRunState? {
        ILoRAState(build: b, sites: sites)
    }

    public var peftForm: PEFTForm? { .lora }
    public var imsmRefusal: String? { "I-LoRA's EMA copy would need a gate of its own" }
    public var trainableCopies: Int { 1 }
    public var hasAuxiliaryPass: Bool { true }

    public func scratchFloats(_ p: SitePlan, settings s: MethodSettings, rows n: Int) -> Int {
        // The long-term copy (no dropout) runs evaluation forwards only: t_eval [N, R].
        LoRAMethod().scratchFloats(p, settings: s, rows: n) + n * p.rank
    }
}

/// I-LoRA's long-term copy, the deltas that read it, and the consistency term.
public final class ILoRAState: MethodRunState, AuxiliaryLoss {
    let working: TrainableParameters
    /// The long-term (EMA) copy of the trainable values, laid out like them.
    public let longTerm: TrainableParameters
    /// LoRA deltas reading `longTerm` (no dropout), by site.
    public let longTermDeltas: [LinearSite: LinearDelta]
    let decay: Float, weight: Float

    init(build b: MethodBuild, sites: [LinearSite: MethodSite]) {
        working = b.parameters
        longTerm = TrainableParameters(layout: b.parameters.layout)
        var deltas: [LinearSite: LinearDelta] = [:]
        for (site, s) in sites {
            guard let d = s as? LoRADelta else { continue }
            deltas[site] = LoRADelta(site: site, inFeatures: d.inFeatures, outFeatures: d.outFeatures, rank: d.rank,
                                     alpha: b.settings.alpha, dropout: 0, parameters: longTerm, context: b.context)
        }
        longTermDeltas = deltas
        decay = b.settings.emaDecay
        weight = b.settings.consistencyWeight
        trainableValuesReplaced()
    }

    /// long ← λ·long + (1 − λ)·working, over the whole buffer.
    public func afterUpdate() {
        let l = longTerm.values.storage.pointer, w = working.values.storage.pointer
        let lambda = decay
        for i in 0..<working.count { l[i] = lambda * l[i] + (1 - lambda) * w[i] }
    }

    /// The long-term copy starts equal to the working values.
    public func trainableValuesReplaced() {
        longTerm.values.storage.pointer.update(from: working.values.storage.pointer, count: working.count)
    }

    public var persistentTensors: [PersistentTensor] {
        longTerm.layout.entries.map {
            PersistentTensor(name: "long/" + $0.name, shape: $0.shape, pointer: longTerm.values.storage.pointer + $0.offset,
                             owner: longTerm)
        }
    }

    public var auxiliaryLoss: AuxiliaryLoss? { self }

    public func withAuxiliaryModel<T>(_ model: DecoderModel, _ body: () throws -> T) rethrows -> T {
        let current = model.deltas
        model.deltas = longTermDeltas
        defer { model.deltas = current }
        return try body()
    }

    /// w·MSE(logits_work, logits_long) summed over answer rows (mean over the vocabulary), and the closure
    /// adding its gradient to d(logits).
    public func term(work: DecoderActivations, auxiliary long: DecoderActivations, targets: [Int32], vocabSize v: Int)
        -> (Double, (UnsafeMutablePointer<Float>) -> Void) {
        let w = weight
        var sum = 0.0
        for r in 0..<targets.count where targets[r] >= 0 {
            let lw = work.logits.pointer + r * v, ll = long.logits.pointer + r * v
            var s = 0.0
            for j in 0..<v { let d = Double(lw[j] - ll[j]); s += d * d }
            sum += Double(w) * s / Double(v)
        }
        let scale = 2 * w / Float(v)
        return (sum, { dLogits in
            for r in 0..<targets.count where targets[r] >= 0 {
                let lw = work.logits.pointer + r * v, ll = long.logits.pointer + r * v, d = dLogits + r * v
                for j in 0..<v { d[j] += scale * (lw[j] - ll[j]) }
            }
        })
    }
}
