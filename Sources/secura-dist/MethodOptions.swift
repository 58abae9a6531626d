// The method flags shared by train, inspect and the experiments, converted to MethodSettings.
import ArgumentParser
import SecuraAdapters
import SecuraModel
import SecuraRun

extension AdapterMethod: ExpressibleByArgument {}
extension CABRInit: ExpressibleByArgument {}
extension SMagNormMode: ExpressibleByArgument {}
extension MergePrecision: ExpressibleByArgument {}
extension CABRScale: ExpressibleByArgument {}
extension IMSMMode: ExpressibleByArgument {}
extension IMSMGateVariant: ExpressibleByArgument {}
extension CABRSVDSolver: ExpressibleByArgument {}

struct MethodOptions: ParsableArguments {
    @Option(help: "Fine-tuning method: \(AdapterMethod.allCases.map(\.rawValue).joined(separator: ", ")) (default secura-m1).")
    var method: AdapterMethod?

    @Option(help: "Adapted projections, comma-separated: q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj.")
    var targets = "q_proj,v_proj"

    @Option(help: "LoRA/DoRA/I-LoRA rank r (1…65,536).")
    var rank = 8

    @Option(help: "LoRA/DoRA/I-LoRA alpha (scaling alpha/r).")
    var alpha: Float = 16

    @Option(help: "Adapter dropout on the layer input (LoRA, DoRA, I-LoRA), in [0, 1).")
    var dropout: Float = 0.05

    @Option(help: "r of CUR-LoRA and CABR/SECURA: lowest-norm columns (C) and rows (R) kept (1…1,048,576); clamped per layer.")
    var curRank = 150

    @Option(help: "m of CABR/SECURA: columns of A (A is r×m, B is m×r; 1…1,048,576); clamped per layer.")
    var cabrM = 200

    @Option(help: "CABR's A initialisation: svd (U[:r,:]·diag(S)·V[:m,:]ᵀ) or slice (W[:r,:m], equal to the full SVD product).")
    var cabrInit: CABRInit = .svd

    @Option(help: "Scale of CABR's frozen pieces: weights (C, R and A_init are slices of W, the paper) or unit (C's columns and R's rows at unit norm, A_init divided by W's RMS: the change no longer grows with the weights' scale; for the fidelity study).")
    var cabrScale: CABRScale = .weights

    @Option(help: "Keep only the top k singular triplets in CABR's A (1…1,048,576; default: all).")
    var cabrSvdRank: Int?

    @Option(help: "How CABR's SVD init uses the ranks: dealt (whole matrices dealt to ranks, LAPACK dgesdd each, all at once) or scalapack (all ranks on each matrix in turn).")
    var cabrSvdSolver: CABRSVDSolver = .dealt

    @Option(help: "Folder caching CABR's initial A per model and settings: a later run with the same model files and settings reads it instead of running the SVDs; a stale or foreign entry is reported and recomputed.")
    var cabrInitCache: String?

    @Option(help: "SECURA merges every this many optimizer steps (1…10⁹).")
    var fusionStep = 1

    @Option(help: "S-MagNorm: merge (damp the change at merges), output (the authors' output normalisation), off (plain W += ΔW).")
    var smagnorm: SMagNormMode = .merge

    @Option(help: "S-MagNorm's sigmoid scale.")
    var smagnormScale: Float = 6

    @Option(help: "S-MagNorm's epsilon: added to W in merge mode, to the former output in the ratio's denominator in output mode (the authors' 1e-10).")
    var smagnormEps: Float = 1e-10

    @Flag(help: "Train the SECURA authors' delta bias b_Δ (their isNeedBias / LoRAbias) with cabr-lora, secura-m1 or secura-m2: a bias on every adapted projection, added to the adapter's output, zero at the start, never merged, never reset. Merged exports add it to the projection's bias (models whose projection has one).")
    var deltaBias = false

    @Option(help: "Precision of merged weights: fp32 master copy, or bf16 rounding after every merge (as the released code).")
    var mergePrecision: MergePrecision = .fp32

    @Option(help: "I-LoRA: EMA decay of the long-term adapter copy.")
    var emaDecay: Float = 0.99

    @Option(help: "I-LoRA: weight of the logits-MSE consistency term.")
    var consistencyWeight: Float = 0.99

    @Flag(inversion: .prefixedNo, help: "IMSM around the method (not full or i-lora): run the frozen model beside the tuned one and blend their final hidden states with a learned gate; logits from the frozen head.")
    var imsm = false

    @Option(help: "IMSM variant (with --imsm): full (gate from [q̄; h; h'; q̄']), no-query (gate from [h; h']) or no-gate (the mean of h and h'). Default full.")
    var imsmMode: IMSMMode?

    @Option(help: "IMSM gate rank r (with --imsm; W_A is r×4C, W_B is C×r; 1…4,096). Default 8.")
    var imsmRank: Int?

    @Option(help: "Dropout rate of the IMSM gate (with --imsm; where it acts: --imsm-gate), in [0, 1). Default 0.1.")
    var imsmDropout: Float?

    @Option(help: "IMSM gate variant (with --imsm): lora-style (W_A uniform ±1/√(4C), W_B = 0 so g starts at 0.5, dropout on the gate input, as PEFT's LoRA) or authors (the IMSM authors' code: W_A and W_B both torch nn.Linear's default uniform ±1/√fan_in, dropout after each of the two linear layers). Default lora-style.")
    var imsmGate: IMSMGateVariant?

    @Option(help: "Peak learning rate of the IMSM gate (with --imsm), its own AdamW group; it follows --schedule and --warmup like --lr. Default 1e-3.")
    var imsmLr: Double?

    /// The CABR SVD initialisation's solver and cache.
    var cabrSVDSettings: CABRSVDSettings {
        var c = CABRSVDSettings()
        c.solver = cabrSvdSolver
        c.cacheFolder = cabrInitCache
        return c
    }

    func settings() throws -> MethodSettings {
        var s = MethodSettings()
        s.method = method ?? .securaM1
        s.targets = try targets.split(separator: ",").map { name in
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            guard let p = Projection(rawValue: trimmed) else {
                throw ValidationError("--targets: '\(trimmed)' is not one of \(Projection.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return p
        }
        guard !s.targets.isEmpty else { throw ValidationError("--targets needs at least one projection") }
        s.rank = rank
        s.alpha = alpha
        s.dropout = dropout
        s.curRank = curRank
        s.cabrM = cabrM
        s.cabrInit = cabrInit
        s.cabrSVDRank = cabrSvdRank
        s.fusionStep = fusionStep
        s.smagnorm = smagnorm
        s.smagnormScale = smagnormScale
        s.smagnormEps = smagnormEps
        s.mergePrecision = mergePrecision
        s.deltaBias = deltaBias
        s.cabrScale = cabrScale
        s.emaDecay = emaDecay
        s.consistencyWeight = consistencyWeight
        if imsm {
            var i = IMSMSettings()
            i.mode = imsmMode ?? i.mode
            i.rank = imsmRank ?? i.rank
            i.dropout = imsmDropout ?? i.dropout
            i.lr = imsmLr ?? i.lr
            i.gate = imsmGate ?? i.gate
            s.imsm = i
        } else if imsmMode != nil || imsmRank != nil || imsmDropout != nil || imsmLr != nil || imsmGate != nil {
            throw ValidationError("--imsm-mode, --imsm-rank, --imsm-dropout, --imsm-lr and --imsm-gate need --imsm")
        }
        if let reason = s.unsupportedReason { throw ValidationError(reason) }
        do {
            try s.validateRanges()
        } catch let error as RunSettingError {
            throw ValidationError(error.flagDescription)
        }
        return s
    }
}
