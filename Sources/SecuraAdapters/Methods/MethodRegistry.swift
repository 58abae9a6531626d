// The one registry of fine-tuning methods: the `--method` names and the value that is each method.
// Adding a method: a case here, its line in `definition`, and its own file beside this one
// (README, "Adding a method").
import SecuraModel

/// A fine-tuning method's name, as `--method` and state.json spell it (docs/DESIGN.md §1).
public enum AdapterMethod: String, CaseIterable, Sendable, Codable {
    case lora, dora
    case curLoRA = "cur-lora"
    case iLoRA = "i-lora"
    case cabrLoRA = "cabr-lora"
    case securaM1 = "secura-m1"
    case securaM2 = "secura-m2"
    case full

    /// The method this name registers. The only switch over methods.
    public var definition: FineTuningMethod {
        switch self {
        case .lora: return LoRAMethod()
        case .dora: return DoRAMethod()
        case .curLoRA: return CURLoRAMethod()
        case .iLoRA: return ILoRAMethod()
        case .cabrLoRA: return CABRLoRAMethod()
        case .securaM1: return SecuraM1Method()
        case .securaM2: return SecuraM2Method()
        case .full: return FullMethod()
        }
    }
}
