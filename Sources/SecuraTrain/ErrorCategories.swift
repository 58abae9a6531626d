// Categories of SecuraTrain's errors whose enums live in files other work is changing (the checkpoint).
// A missing checkpoint is I/O; one that does not fit this run or cannot be decoded is bad input data.
import SecuraErrors

extension CheckpointError: CategorizedError {
    public var category: ErrorCategory {
        switch self {
        case .missing: return .io
        case .incompatible: return .data
        }
    }
}
