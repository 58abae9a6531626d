// All adapters of a run, built for a method on a model: the one flat trainable buffer, the deltas per
// linear site, the fp32 master copies of weights that merges change, I-LoRA's EMA copy, and IMSM's gate
// with its frozen branch.
import Foundation
import SecuraDistributed
import SecuraModel
import SecuraTensor

public final class AdapterSet {
    public let settings: MethodSettings
    public let plans: [SitePlan]
    public let parameters: TrainableParameters
    public let context = AdapterContext()
    /// The decoder bound to the base weights with merge targets / trainable weights overlaid.
    public let model: DecoderModel
    public private(set) var lora: [LinearSite: LoRADelta] = [:]
    public private(set) var dora: [LinearSite: DoRADelta] = [:]
    public private(set) var cur: [LinearSite: CURDelta] = [:]
    public private(set) var cabr: [LinearSite: CABRDelta] = [:]
    /// fp32 master copies of weights that merges change (SECURA-M1), by site, in node-shared memory.
    public private(set) var masters: [LinearSite: MasterWeight] = [:]
    /// I-LoRA's long-term (EMA) copy of the trainable values and the deltas that read it.
    public let longTerm: TrainableParameters?
    public private(set) var longTermDeltas: [LinearSite: LinearDelta] = [:]
    /// IMSM's gate and frozen branch, installed as the model's mixer (nil without IMSM).
    public private(set) var imsm: IMSMMixer?

    /// Builds the adapters of `settings` for a model of `config` whose original tensors come from `base`.
    /// - Parameters:
    ///   - seed: initialisation seed (LoRA's A).
    ///   - solver: SVD for CABR's A (every rank gets identical results).
    ///   - comm: the ranks of the node share the merge targets' memory (allocation is collective over
    ///     the node); the single-process default keeps them private.
    ///   - log: progress lines (CABR initialisation can take a while on large layers).
    ///   - initialA: CABR's A per site, already computed (`CABRInitBatch`, or read from a cache); sites
    ///     missing from it are initialised here with `solver`.
    ///   - allocateMasters: false leaves `masters` empty (export reads them from the checkpoint one at
    ///     a time instead of holding them all; the model then runs on the original weights).
    /// - Throws: `ModelError.invalidInput` for settings that cannot run (`MethodSettings.unsupportedReason`),
    ///   and the weight source's errors.
    public init(config: DecoderConfig, base: WeightSource, settings: MethodSettings, seed: UInt64,
                solver: SVDSolver, comm: Communicator = SingleProcessCommunicator(),
                log: (String) -> Void = { _ in }, initialA: [LinearSite: [Float]] = [:],
                allocateMasters: Bool = true) throws {
        if let reason = settings.unsupportedReason { throw ModelError.invalidInput(reason) }
        self.settings = settings
        var layout = ParameterLayout()
        plans = MethodPlanner.plan(config, settings, layout: &layout)
        parameters = TrainableParameters(layout: layout)
        let overlay = OverlayWeights(base: base)
        var rng = SeededRandom(seed: seed)
        var deltas: [LinearSite: LinearDelta] = [:]
        longTerm = settings.method == .iLoRA ? TrainableParameters(layout: layout) : nil
        if settings.method == .securaM1 && allocateMasters {
            masters = try makeMasters(plans.map { (site: $0.site, original: try base.view($0.site.weightName)) }, comm: comm)
        }

        for plan in plans {
            let site = plan.site
            let original = try base.view(site.weightName)
            switch settings.method {
            case .lora, .iLoRA:
                let d = LoRADelta(site: site, inFeatures: plan.inFeatures, outFeatures: plan.outFeatures, rank: plan.rank,
                                  alpha: settings.alpha, dropout: settings.dropout, parameters: parameters, context: context)
                d.initialize(&rng)
                lora[site] = d
                deltas[site] = d
                if let longTerm {
                    longTermDeltas[site] = LoRADelta(site: site, inFeatures: plan.inFeatures, outFeatures: plan.outFeatures,
                                                     rank: plan.rank, alpha: settings.alpha, dropout: 0,
                                                     parameters: longTerm, context: context)
                }
            case .dora:
                let d = DoRADelta(site: site, weight: original, rank: plan.rank, alpha: settings.alpha,
                                  dropout: settings.dropout, parameters: parameters, context: context)
                d.initialize(&rng)
                dora[site] = d
                deltas[site] = d
            case .curLoRA:
                let d = CURDelta(site: site, weight: original, rank: plan.rank, parameters: parameters)
                cur[site] = d
                deltas[site] = d
            case .cabrLoRA, .securaM1, .securaM2:
                let start = DispatchTime.now().uptimeNanoseconds
                let d = CABRDelta(site: site, weight: original, rank: plan.rank, innerRank: plan.innerRank,
                                  longTerm: settings.method == .securaM2, parameters: parameters)
                d.setInitialA(try initialA[site] ?? CABRInitializer.initialA(weight: original, rank: plan.rank, innerRank: plan.innerRank,
                                                           mode: settings.cabrInit, svdRank: settings.cabrSVDRank,
                                                           solver: solver))
                cabr[site] = d
                deltas[site] = d
                if settings.smagnorm == .output {
                    // The authors' output normalisation wraps the adapter; it reads the current base weight.
                    let current = masters[site]?.view(name: site.weightName) ?? original
                    deltas[site] = OutputNormalizedDelta(inner: d, weight: current, scale: settings.smagnormScale)
                }
                let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                log("cabr init \(site.weightName) [\(plan.outFeatures)×\(plan.inFeatures)] r=\(plan.rank) m=\(plan.innerRank) "
                    + "(\(settings.cabrInit.rawValue)) \(String(format: "%.1f", ms)) ms")
                if let master = masters[site] { overlay.set(site.weightName, master.view(name: site.weightName)) }
            case .full:
                let (value, _) = parameters.tensor(site.weightName)
                original.widen(start: 0, count: original.count, into: value)
                overlay.set(site.weightName, WeightView(name: site.weightName, dtype: .f32, shape: original.shape,
                                                        data: UnsafeRawPointer(value), owner: parameters))
            }
        }
        if let longTerm {
            longTerm.values.storage.pointer.update(from: parameters.values.storage.pointer, count: parameters.count)
        }
        model = try DecoderModel(config: config, source: overlay)
        model.deltas = deltas
        if let s = settings.imsm {
            // Initialised after every adapter, so the adapters' random streams do not depend on IMSM.
            let gate = IMSMGate(mode: s.mode, width: config.hiddenSize, rank: s.rank, dropout: s.dropout,
                                parameters: parameters, context: context)
            gate.initialize(&rng)
            // The frozen branch reads `base`, not the overlay: SECURA-M1's merges never reach it.
            let mixer = IMSMMixer(gate: gate, frozen: try DecoderModel(config: config, source: base))
            imsm = mixer
            model.mixer = mixer
        }
    }

    /// The part of the flat buffer that holds IMSM's gate (its own learning rate), or nil.
    public var imsmRange: Range<Int>? {
        let entries = parameters.layout.entries.filter { $0.name == IMSMGate.nameA || $0.name == IMSMGate.nameB }
        guard let first = entries.first, let last = entries.last else { return nil }
        return first.offset..<(last.offset + last.count)
    }

    /// Trainable scalars of IMSM's gate (0 without IMSM or in no-gate mode).
    public var imsmParameterCount: Int { imsmRange?.count ?? 0 }

    /// Trainable scalars per decoder layer.
    public var trainablePerLayer: [Int] {
        MethodPlanner.trainablePerLayer(plans, layers: model.config.layers)
    }

    /// Runs `body` with the model's deltas swapped for I-LoRA's long-term copies.
    public func withLongTermDeltas<T>(_ body: () throws -> T) rethrows -> T {
        let working = model.deltas
        model.deltas = longTermDeltas
        defer { model.deltas = working }
        return try body()
    }

    /// I-LoRA: long ← λ·long + (1 − λ)·working, over the whole buffer.
    public func updateLongTerm() {
        guard let longTerm else { return }
        let l = longTerm.values.storage.pointer, w = parameters.values.storage.pointer
        let lambda = settings.emaDecay
        for i in 0..<parameters.count { l[i] = lambda * l[i] + (1 - lambda) * w[i] }
    }
}
