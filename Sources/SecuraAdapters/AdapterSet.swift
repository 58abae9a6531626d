// All adapters of a run, built by its method (Methods/) on a model: the one flat trainable buffer, the
// method's sites, the fp32 master copies of weights that merges change, the method's run-wide state, and
// IMSM's gate with its frozen branch.
import Foundation
import SecuraDistributed
import SecuraModel
import SecuraTensor

public final class AdapterSet {
    public let settings: MethodSettings
    /// The method `settings.method` names (MethodRegistry.swift).
    public let method: FineTuningMethod
    public let plans: [SitePlan]
    public let parameters: TrainableParameters
    public let context = AdapterContext()
    /// The decoder bound to the base weights with merge targets / trainable weights overlaid.
    public let model: DecoderModel
    /// What the method trains at each adapted site.
    public private(set) var sites: [LinearSite: MethodSite] = [:]
    /// fp32 master copies of weights that the method's merges change, by site, in node-shared memory
    /// (empty unless `method.mergesIntoMasters`).
    public private(set) var masters: [LinearSite: MasterWeight] = [:]
    /// The method's run-wide state (I-LoRA's EMA copy), or nil.
    public private(set) var methodState: MethodRunState?
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
    /// - Throws: `MethodError` for settings that cannot run (`MethodSettings.validate(for:)`),
    ///   and the weight source's errors.
    public init(config: DecoderConfig, base: WeightSource, settings: MethodSettings, seed: UInt64,
                solver: SVDSolver, comm: Communicator = SingleProcessCommunicator(),
                log: @escaping (String) -> Void = { _ in }, initialA: [LinearSite: [Float]] = [:],
                allocateMasters: Bool = true) throws {
        try settings.validate(for: config)
        self.settings = settings
        var layout = ParameterLayout()
        plans = MethodPlanner.plan(config, settings, layout: &layout)
        parameters = TrainableParameters(layout: layout)
        let overlay = OverlayWeights(base: base)
        method = settings.method.definition
        if method.mergesIntoMasters && allocateMasters {
            masters = try makeMasters(plans.map { (site: $0.site, original: try base.view($0.site.weightName)) }, comm: comm)
        }
        let build = MethodBuild(settings: settings, parameters: parameters, context: context, overlay: overlay,
                                rng: SeededRandom(seed: seed), solver: solver, initialA: initialA, masters: masters, log: log)
        var deltas: [LinearSite: LinearDelta] = [:]
        for plan in plans {
            let site = plan.site
            let made = try method.makeSite(plan, original: try base.view(site.weightName), build: build)
            sites[site] = made
            deltas[site] = made.delta
            if let master = masters[site] { overlay.set(site.weightName, master.view(name: site.weightName)) }
        }
        methodState = method.makeRunState(build, sites: sites)
        model = try DecoderModel(config: config, source: overlay)
        model.deltas = deltas
        if let s = settings.imsm {
            // Initialised after every adapter, so the adapters' random streams do not depend on IMSM.
            let gate = IMSMGate(mode: s.mode, width: config.hiddenSize, rank: s.rank, dropout: s.dropout,
                                variant: s.gate, parameters: parameters, context: context)
            gate.initialize(&build.rng)
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
}
