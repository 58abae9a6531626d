// CABR-LoRA as a method (the delta is CABR.swift): ΔW = C·A·B·R, A from CABRInit. SECURA-M1 and
// SECURA-M2 (their own files) are CABR-LoRA plus merges; what the three share is here.
import Foundation
import SecuraModel
import SecuraTensor

public struct CABRLoRAMethod: CABRFamilyMethod {
    public init() {}
    public var displayName: String { "CABR-LoRA" }
    public var keepsLongTermPair: Bool { false }
}

/// CABR-LoRA and the SECURA methods built on it.
public protocol CABRFamilyMethod: FineTuningMethod {
    /// SECURA-M2's frozen long-term pair A_L, B_L beside A, B.
    var keepsLongTermPair: Bool { get }
}

extension CABRFamilyMethod {
    public func register(_ site: LinearSite, outFeatures h: Int, inFeatures d: Int, settings s: MethodSettings,
                         in layout: inout ParameterLayout) -> (rank: Int, innerRank: Int) {
        let rank = min(s.curRank, h, d), inner = min(s.cabrM, d)
        CABRDelta.register(site, rank: rank, innerRank: inner, deltaBias: s.deltaBias, outFeatures: h, in: &layout)
        return (rank, inner)
    }

    public func makeSite(_ plan: SitePlan, original: WeightView, build b: MethodBuild) throws -> MethodSite {
        let s = b.settings, site = plan.site
        let start = DispatchTime.now().uptimeNanoseconds
        let unit = s.cabrScale == .unit
        let d = CABRDelta(site: site, weight: original, rank: plan.rank, innerRank: plan.innerRank,
                          longTerm: keepsLongTermPair, parameters: b.parameters, scaleFree: unit)
        var initial = try b.initialA[site] ?? CABRInitializer.initialA(weight: original, rank: plan.rank, innerRank: plan.innerRank,
                                                                       mode: s.cabrInit, svdRank: s.cabrSVDRank, solver: b.solver)
        if unit {
            // A / RMS(W): with unit C and R the change C·A·B·R no longer scales with the weights (§1.5).
            var sum = 0.0
            let values = original.toFloatArray()
            for v in values { sum += Double(v) * Double(v) }
            let rms = (sum / Double(max(1, values.count))).squareRoot()
            if rms > 0 { initial = initial.map { Float(Double($0) / rms) } }
        }
        d.setInitialA(initial)
        var run: LinearDelta = d
        if s.smagnorm == .output {
            // The authors' output normalisation wraps the adapter; it reads the current base weight.
            let current = b.masters[site]?.view(name: site.weightName) ?? original
            run = OutputNormalizedDelta(inner: d, weight: current, scale: s.smagnormScale, eps: s.smagnormEps,
                                        longTerm: keepsLongTermPair ? d : nil)
        }
        let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
        b.log("cabr init \(site.weightName) [\(plan.outFeatures)×\(plan.inFeatures)] r=\(plan.rank) m=\(plan.innerRank) "
              + "(\(s.cabrInit.rawValue)) \(String(format: "%.1f", ms)) ms")
        return CABRSite(cabr: d, delta: run, outputNormalized: s.smagnorm == .output)
    }

    public var usesCABRInit: Bool { true }

    public func scratchFloats(_ p: SitePlan, settings s: MethodSettings, rows n: Int) -> Int {
        CABRDelta.scratchFloats(rows: n, rank: p.rank, innerRank: p.innerRank, longTerm: keepsLongTermPair,
                                separateLongTerm: s.smagnorm == .output)
            + (s.smagnorm == .output ? OutputNormalizedDelta.scratchFloats(rows: n, outFeatures: p.outFeatures) : 0)
    }
    public func constantFloats(_ p: SitePlan) -> Int {
        p.outFeatures * p.rank + p.rank * p.inFeatures + (keepsLongTermPair ? 2 * p.rank * p.innerRank : 0)
    }
    public var constantsName: String { "adapter constants (C, R\(keepsLongTermPair ? ", long-term pair" : ""))" }
    public func chainMultiplyAdds(_ p: SitePlan) -> Double {
        let h = Double(p.outFeatures), d = Double(p.inFeatures), r = Double(p.rank), m = Double(p.innerRank)
        return d * r + r * m + m * r + r * h
    }
}

/// One CABR site: the delta, the output-normalising wrapper the decoder runs instead (--smagnorm
/// output), and SECURA-M2's long-term pair as persisted state.
public final class CABRSite: MethodSite {
    public let cabr: CABRDelta
    public let delta: LinearDelta?
    let outputNormalized: Bool

    init(cabr: CABRDelta, delta: LinearDelta, outputNormalized: Bool) {
        self.cabr = cabr
        self.delta = delta
        self.outputNormalized = outputNormalized
    }

    /// W += C·(A·B + A_L·B_L)·R.
    /// - Throws: `MethodError.noMergedForm` for SMagNorm in output mode, whose output normalisation cannot be folded into a weight.
    public func merge(into p: UnsafeMutablePointer<Float>) throws {
        if outputNormalized {
            throw MethodError.noMergedForm(MethodError.smagnorm, value: "output", reason: "normalises layer outputs")
        }
        cabr.merge(into: p)
    }

    /// b_Δ (`--delta-bias`): never merged into W; exports add it to the projection's bias.
    public var biasChange: [Float]? { cabr.biasValues }

    public var persistentTensors: [PersistentTensor] {
        guard let la = cabr.longA, let lb = cabr.longB else { return [] }
        let names = CABRDelta.names(cabr.site)
        return [PersistentTensor(name: "long/" + names.a, shape: [cabr.rank, cabr.innerRank], pointer: la.pointer, owner: la),
                PersistentTensor(name: "long/" + names.b, shape: [cabr.innerRank, cabr.rank], pointer: lb.pointer, owner: lb)]
    }
}

extension AdapterSet {
    /// The CABR deltas of a CABR-LoRA / SECURA run by site (empty for other methods).
    public var cabr: [LinearSite: CABRDelta] { sites.compactMapValues { ($0 as? CABRSite)?.cabr } }
}
