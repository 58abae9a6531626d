// Categories of SecuraTrain's errors whose enums live in files other work is changing (the checkpoint).
// A missing checkpoint is I/O; one that does not fit this run or cannot be decoded is bad input data.
import SecuraErrors

extension CheckpointError: CategorizedError {
    public var category: ErrorCategory {
        switch self {
        case .missing: return .io
        case .incompatible: return .data
        case .corrupted: return .data              // a damaged file: the fix is another checkpoint
        case .noUsableCheckpoint: return .data
        case .outputNotWritable: return .io
        }
    }
}

/// A run that does not fit the node's memory is refused before it starts: the fix is a setting (a smaller
/// micro-batch or max length, recomputation, more nodes), so it is a usage error.
extension MemoryPlanError: CategorizedError {
    public var category: ErrorCategory { .usage }
}
