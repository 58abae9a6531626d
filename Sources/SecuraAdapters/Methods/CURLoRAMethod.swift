// CUR-LoRA as a method (the delta is CURLoRA.swift): ΔW = C·U·R with only U trainable.
import SecuraModel
import SecuraTensor

public struct CURLoRAMethod: FineTuningMethod {
    public init() {}
    public var displayName: String { "CUR-LoRA" }

    public func register(_ site: LinearSite, outFeatures h: Int, inFeatures d: Int, settings s: MethodSettings,
                         in layout: inout ParameterLayout) -> (rank: Int, innerRank: Int) {
        let rank = min(s.curRank, h, d)
        CURDelta.register(site, rank: rank, in: &layout)
        return (rank, 0)
    }

    public func makeSite(_ plan: SitePlan, original: WeightView, build b: MethodBuild) throws -> MethodSite {
        CURDelta(site: plan.site, weight: original, rank: plan.rank, parameters: b.parameters)
    }

    public func scratchFloats(_ p: SitePlan, settings s: MethodSettings, rows n: Int) -> Int {
        CURDelta.scratchFloats(rows: n, rank: p.rank)
    }
    public func constantFloats(_ p: SitePlan) -> Int { p.outFeatures * p.rank + p.rank * p.inFeatures }
    public var constantsName: String { "adapter constants (C, R)" }
    public func chainMultiplyAdds(_ p: SitePlan) -> Double {
        let h = Double(p.outFeatures), d = Double(p.inFeatures), r = Double(p.rank)
        return d * r + r * r + r * h
    }
}

extension CURDelta: MethodSite {
    public var delta: LinearDelta? { self }
}
