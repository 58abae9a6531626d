// DoRA as a method (the delta is DoRA.swift): LoRA's pair plus a trainable magnitude per output row,
// PEFT-exportable with use_dora.
import SecuraModel
import SecuraTensor

public struct DoRAMethod: FineTuningMethod {
    public init() {}
    public var displayName: String { "DoRA" }

    public func register(_ site: LinearSite, outFeatures h: Int, inFeatures d: Int, settings s: MethodSettings,
                         in layout: inout ParameterLayout) -> (rank: Int, innerRank: Int) {
        let rank = min(s.rank, h, d)
        DoRADelta.register(site, inFeatures: d, outFeatures: h, rank: rank, in: &layout)
        return (rank, 0)
    }

    public func makeSite(_ plan: SitePlan, original: WeightView, build b: MethodBuild) throws -> MethodSite {
        let d = DoRADelta(site: plan.site, weight: original, rank: plan.rank, alpha: b.settings.alpha,
                          dropout: b.settings.dropout, parameters: b.parameters, context: b.context)
        d.initialize(&b.rng)
        return d
    }

    public var peftForm: PEFTForm? { .dora }

    public func scratchFloats(_ p: SitePlan, settings s: MethodSettings, rows n: Int) -> Int {
        DoRADelta.scratchFloats(rows: n, inFeatures: p.inFeatures, outFeatures: p.outFeatures, rank: p.rank,
                                dropout: s.dropout > 0)
    }
}

extension DoRADelta: MethodSite {
    public var delta: LinearDelta? { self }
}
