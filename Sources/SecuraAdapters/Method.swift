// The fine-tuning methods' settings (defaults from the papers) and the per-site plan of what each one
// trains, computed from real shapes before anything is allocated (the methods: Methods/).
import SecuraModel
import SecuraTensor

/// How CABR's A is initialised.
public enum CABRInit: String, CaseIterable, Sendable, Codable {
    /// A = U[:r,:]·diag(S)·V[:m,:]ᵀ from an SVD of W (paper eq. 3).
    case svd
    /// A = W[:r, :m], which equals the full-SVD product exactly.
    case slice
}

/// The scale of CABR's frozen pieces (`--cabr-scale`).
public enum CABRScale: String, CaseIterable, Sendable, Codable {
    /// C, R and A_init are slices of W, as the paper defines them: the change grows with W's scale cubed.
    case weights
    /// C's columns and R's rows at unit norm and A_init divided by W's RMS: the change does not depend on
    /// W's scale (the fidelity study's test of the step-size hypothesis, results/fidelity/).
    case unit
}

/// Precision of merged base weights.
public enum MergePrecision: String, CaseIterable, Sendable, Codable {
    case fp32, bf16
}

/// IMSM (docs/DESIGN.md §1.10) around an adapter method: the gate's variant and hyper-parameters, with the
/// paper's defaults.
public struct IMSMSettings: Sendable, Equatable, Codable {
    public var mode: IMSMMode = .full
    /// r of the gate: W_A [r, k·C], W_B [C, r].
    public var rank = 8
    /// The gate's dropout rate (where it acts: `gate`).
    public var dropout: Float = 0.1
    /// The gate's peak learning rate (its own AdamW range; the adapters use the run's --lr). The gate
    /// follows the run's schedule scaled to this peak.
    public var lr: Double = 1e-3
    /// The gate's initialisation and dropout placement: ours (LoRA's) or the IMSM authors' code's.
    public var gate: IMSMGateVariant = .loraStyle

    public init() {}

    /// Decodes settings written before `gate` existed as `loraStyle`, the behaviour they were trained with.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        mode = try c.decode(IMSMMode.self, forKey: .mode)
        rank = try c.decode(Int.self, forKey: .rank)
        dropout = try c.decode(Float.self, forKey: .dropout)
        lr = try c.decode(Double.self, forKey: .lr)
        gate = try c.decodeIfPresent(IMSMGateVariant.self, forKey: .gate) ?? .loraStyle
    }

    /// Trainable scalars of the gate on a model of width `width`.
    public func parameterCount(width: Int) -> Int {
        IMSMGate.parameterCount(mode: mode, width: width, rank: rank)
    }
}

/// Every method setting, with the papers' defaults.
public struct MethodSettings: Sendable, Equatable, Codable {
    public var method: AdapterMethod = .securaM1
    public var targets: [Projection] = [.q, .v]
    /// LoRA/DoRA/I-LoRA rank r and scaling α (scaling α/r).
    public var rank = 8
    public var alpha: Float = 16
    public var dropout: Float = 0.05
    /// r of CUR-LoRA and CABR (clamped to each layer's shape).
    public var curRank = 150
    /// m of CABR (clamped).
    public var cabrM = 200
    public var cabrInit: CABRInit = .svd
    /// Keep only the top-k singular triplets in A_init (nil: all).
    public var cabrSVDRank: Int? = nil
    /// SECURA merges every this many optimizer steps.
    public var fusionStep = 1
    public var smagnorm: SMagNormMode = .merge
    public var smagnormScale: Float = 6
    public var smagnormEps: Float = 1e-10
    public var mergePrecision: MergePrecision = .fp32
    /// The SECURA authors' b_Δ ("LoRAbias", isNeedBias): a trainable bias [H] added to the output of every
    /// CABR delta (cabr-lora, secura-m1, secura-m2), zero at the start, never merged, never reset.
    public var deltaBias = false
    /// CABR's frozen pieces as slices of W (the paper) or scale-free (`CABRScale`).
    public var cabrScale: CABRScale = .weights
    /// I-LoRA: EMA decay of the long-term copy and weight of the logits-MSE term.
    public var emaDecay: Float = 0.99
    public var consistencyWeight: Float = 0.99
    /// IMSM around the method, or nil for the method alone. Optional so that state.json files written
    /// before IMSM existed still decode (and those without IMSM are written as before).
    public var imsm: IMSMSettings? = nil

    public init() {}

    /// Why these settings cannot run, or nil when they can (`validate()`'s error as text).
    public var unsupportedReason: String? {
        do {
            try validate()
            return nil
        } catch {
            return "\(error)"
        }
    }
}

/// What one linear site trains under a method.
public struct SitePlan: Sendable, Equatable {
    public let site: LinearSite
    public let inFeatures: Int, outFeatures: Int
    /// r and m after clamping to the layer's shape (0 where unused).
    public let rank: Int, innerRank: Int
    /// Trainable tensors (name, shape).
    public let tensors: [ParameterLayout.Entry]
    public var trainableCount: Int { tensors.reduce(0) { $0 + $1.count } }
}

public enum MethodPlanner {
    /// The sites and trainable tensors of `settings` on a model of `config`, registering them in `layout`;
    /// with IMSM, the gate's tensors follow every site's (they are not part of any SitePlan).
    public static func plan(_ config: DecoderConfig, _ settings: MethodSettings,
                            layout: inout ParameterLayout) -> [SitePlan] {
        let c = config
        let qDim = c.heads * c.headDim, kvDim = c.kvHeads * c.headDim, f = c.intermediateSize
        func shape(_ p: Projection) -> (outF: Int, inF: Int) {
            switch p {
            case .q: return (qDim, c.hiddenSize)
            case .k, .v: return (kvDim, c.hiddenSize)
            case .o: return (c.hiddenSize, qDim)
            case .gate, .up: return (f, c.hiddenSize)
            case .down: return (c.hiddenSize, f)
            }
        }
        let method = settings.method.definition
        let projections = method.projections(settings)
        var plans: [SitePlan] = []
        for l in 0..<c.layers {
            for p in Projection.allCases where projections.contains(p) {
                let site = LinearSite(layer: l, projection: p)
                let (h, d) = shape(p)
                let before = layout.entries.count
                let (rank, inner) = method.register(site, outFeatures: h, inFeatures: d, settings: settings, in: &layout)
                plans.append(SitePlan(site: site, inFeatures: d, outFeatures: h, rank: rank, innerRank: inner,
                                      tensors: Array(layout.entries[before...])))
            }
        }
        if let imsm = settings.imsm {
            IMSMGate.register(mode: imsm.mode, width: c.hiddenSize, rank: imsm.rank, in: &layout)
        }
        return plans
    }

    /// Trainable scalars per decoder layer.
    public static func trainablePerLayer(_ plans: [SitePlan], layers: Int) -> [Int] {
        var counts = [Int](repeating: 0, count: layers)
        for p in plans { counts[p.site.layer] += p.trainableCount }
        return counts
    }
}

extension Projection {
    /// Whether this projection has a bias in `config`'s architecture.
    public func hasBias(_ c: DecoderConfig) -> Bool {
        switch self {
        case .q, .k, .v: return c.qkvBias
        case .o: return c.outputBias
        case .gate, .up, .down: return c.mlpBias
        }
    }
}

extension MethodSettings {
    /// Every key may be missing (state.json files written before a setting existed): a missing key takes
    /// the default.
    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func read<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let v = try c.decodeIfPresent(T.self, forKey: key) { value = v }
        }
        try read(.method, &method); try read(.targets, &targets); try read(.rank, &rank); try read(.alpha, &alpha)
        try read(.dropout, &dropout); try read(.curRank, &curRank); try read(.cabrM, &cabrM); try read(.cabrInit, &cabrInit)
        cabrSVDRank = try c.decodeIfPresent(Int.self, forKey: .cabrSVDRank)
        try read(.fusionStep, &fusionStep); try read(.smagnorm, &smagnorm); try read(.smagnormScale, &smagnormScale)
        try read(.smagnormEps, &smagnormEps); try read(.mergePrecision, &mergePrecision); try read(.deltaBias, &deltaBias)
        try read(.cabrScale, &cabrScale)
        try read(.emaDecay, &emaDecay); try read(.consistencyWeight, &consistencyWeight)
        imsm = try c.decodeIfPresent(IMSMSettings.self, forKey: .imsm)
    }
}
