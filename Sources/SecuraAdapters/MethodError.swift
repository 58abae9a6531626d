// Why a method's settings cannot run, or why a trained adapter has no form for an export. Messages name
// settings with their configuration keys ("the IMSM gate rank (imsm_rank)"); the command line shows
// its flags instead.
import SecuraErrors
import SecuraModel

/// Errors of method settings and of method-specific forms (merged weights, PEFT folders).
public enum MethodError: CategorizedError, CustomStringConvertible, Equatable {
    /// IMSM was asked to wrap a method it is not defined for.
    case imsmCannotWrap(method: String, wrappable: [String])
    /// A setting's value is outside the range the method accepts.
    case settingOutOfRange(Setting, found: String, expected: String)
    /// A setting whose value has no merged-weight form (e.g. SMagNorm in output mode).
    case noMergedForm(Setting, value: String, reason: String)
    /// An IMSM run cannot be written as `format` (a merged model, a PEFT adapter, ...).
    case imsmHasNoSingleModelForm(format: String)
    /// The method has no PEFT form; `supported` are those that do.
    case noPEFTForm(method: String, supported: [String])
    /// IMSM's two KV caches disagree on the positions they hold (a bug in the caller).
    case mixerCacheMismatch(frozen: Int, tuned: Int)
    /// A CABR setting (b_Δ, the unit scale) was asked for a method that has no CABR delta.
    case needsCABR(Setting, method: String, supported: [String])
    /// A site's b_Δ has no bias tensor to go into in a merged export (the projection has no bias).
    case deltaBiasHasNoTarget(tensor: String)

    public static let imsmRank = Setting("the IMSM gate rank", key: "imsm_rank")
    public static let imsmDropout = Setting("the IMSM gate dropout", key: "imsm_dropout")
    public static let imsmLR = Setting("the IMSM gate learning rate", key: "imsm_lr")
    public static let imsmGate = Setting("the IMSM gate variant", key: "imsm_gate")
    public static let smagnorm = Setting("SMagNorm's mode", key: "smagnorm")
    public static let deltaBias = Setting("the delta bias b_Δ", key: "delta_bias")
    public static let cabrScale = Setting("the unit CABR scale", key: "cabr_scale")

    public var category: ErrorCategory {
        switch self {
        case .imsmCannotWrap, .settingOutOfRange, .noMergedForm, .imsmHasNoSingleModelForm, .noPEFTForm, .needsCABR,
             .deltaBiasHasNoTarget: return .usage
        case .mixerCacheMismatch: return .internal
        }
    }

    public var description: String {
        switch self {
        case let .imsmCannotWrap(method, wrappable):
            return "IMSM wraps an adapter method (\(wrappable.joined(separator: ", "))), not \(method)"
        case let .settingOutOfRange(setting, found, expected):
            return "\(setting) must be \(expected), found \(found)"
        case let .noMergedForm(setting, value, reason):
            return "\(setting) '\(value)' \(reason); it has no merged-weight form (export the adapter state instead)"
        case let .imsmHasNoSingleModelForm(format):
            return "this adapter was trained with IMSM: its output mixes the frozen and the tuned model per token through a "
                + "learned gate, which \(format) cannot represent. Use the adapter folder itself (train's OUTPUT/adapter "
                + "holds the gate) with secura-dist generate, eval or score --adapter"
        case let .noPEFTForm(method, supported):
            return "only \(supported.joined(separator: ", ")) adapters have a PEFT format; \(method) exports as a merged model"
        case let .mixerCacheMismatch(frozen, tuned):
            return "IMSM's frozen KV cache holds \(frozen) positions, the tuned one \(tuned)"
        case let .needsCABR(setting, method, supported):
            return "\(setting) belongs to CABR's delta (\(supported.joined(separator: ", "))), not \(method)"
        case let .deltaBiasHasNoTarget(tensor):
            return "the adapter trained a delta bias b_Δ for \(tensor), which the model does not have, so a merged model "
                + "cannot hold it (export the adapter state instead, or train without delta_bias)"
        }
    }
}

extension MethodSettings {
    /// Throws unless these settings can run. IMSM wraps an adapter method: it is not defined for
    /// methods with an `imsmRefusal` (full fine-tuning, I-LoRA).
    /// - Throws: `MethodError.imsmCannotWrap` or `.settingOutOfRange` naming the IMSM setting.
    public func validate() throws {
        if (deltaBias || cabrScale != .weights) && !(method.definition is CABRFamilyMethod) {
            let supported = AdapterMethod.allCases.filter { $0.definition is CABRFamilyMethod }.map(\.rawValue)
            throw MethodError.needsCABR(deltaBias ? MethodError.deltaBias : MethodError.cabrScale, method: method.rawValue,
                                        supported: supported)
        }
        guard let imsm else { return }
        if method.definition.imsmRefusal != nil {
            let wrappable = AdapterMethod.allCases.filter { $0.definition.imsmRefusal == nil }.map(\.rawValue)
            throw MethodError.imsmCannotWrap(method: method.rawValue, wrappable: wrappable)
        }
        if imsm.rank < 1 { throw MethodError.settingOutOfRange(MethodError.imsmRank, found: "\(imsm.rank)", expected: "at least 1") }
        if !(0..<1).contains(imsm.dropout) {
            throw MethodError.settingOutOfRange(MethodError.imsmDropout, found: "\(imsm.dropout)", expected: "in [0, 1)")
        }
        if !(imsm.lr > 0) { throw MethodError.settingOutOfRange(MethodError.imsmLR, found: "\(imsm.lr)", expected: "positive") }
        if imsm.mode == .noGate && imsm.gate != .loraStyle {
            // no-gate has no matrices to initialise and no dropout: a variant there would be recorded but do nothing.
            throw MethodError.settingOutOfRange(MethodError.imsmGate, found: imsm.gate.rawValue,
                                                expected: "\(IMSMGateVariant.loraStyle.rawValue) with the no-gate mode (it has no gate)")
        }
    }

    /// `validate()`, plus the sizes that only a model bounds: the IMSM gate's rank may not exceed the
    /// model width C (a larger rank adds nothing to a C → C gate, and an unchecked one sized the gate's
    /// buffers before anything else: a rank of 2³¹ asked for terabytes).
    public func validate(for config: DecoderConfig) throws {
        try validate()
        if let imsm, imsm.rank > config.hiddenSize {
            throw MethodError.settingOutOfRange(MethodError.imsmRank, found: "\(imsm.rank)",
                                                expected: "at most the model width \(config.hiddenSize)")
        }
    }
}
