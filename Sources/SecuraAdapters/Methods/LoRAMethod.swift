// LoRA as a method (the delta is LoRA.swift): y += (α/r)·dropout(x)·Aᵀ·Bᵀ at every targeted site,
// PEFT-exportable. I-LoRA (ILoRAMethod.swift) reuses its sites.
import SecuraModel
import SecuraTensor

public struct LoRAMethod: FineTuningMethod {
    public init() {}
    public var displayName: String { "LoRA" }

    public func register(_ site: LinearSite, outFeatures h: Int, inFeatures d: Int, settings s: MethodSettings,
                         in layout: inout ParameterLayout) -> (rank: Int, innerRank: Int) {
        let rank = min(s.rank, h, d)
        LoRADelta.register(site, inFeatures: d, outFeatures: h, rank: rank, in: &layout)
        return (rank, 0)
    }

    public func makeSite(_ plan: SitePlan, original: WeightView, build b: MethodBuild) throws -> MethodSite {
        let d = LoRADelta(site: plan.site, inFeatures: plan.inFeatures, outFeatures: plan.outFeatures, rank: plan.rank,
                          alpha: b.settings.alpha, dropout: b.settings.dropout, parameters: b.parameters, context: b.context)
        d.initialize(&b.rng)
        return d
    }

    public var peftForm: PEFTForm? { .lora }

    public func scratchFloats(_ p: SitePlan, settings s: MethodSettings, rows n: Int) -> Int {
        LoRADelta.scratchFloats(rows: n, inFeatures: p.inFeatures, rank: p.rank, dropout: s.dropout > 0)
    }
}

extension LoRADelta: MethodSite {
    public var delta: LinearDelta? { self }
}
