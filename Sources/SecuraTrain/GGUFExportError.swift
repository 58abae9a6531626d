// Why a GGUF export cannot be written: a tensor llama.cpp has no name for, or a tokenizer the GGUF
// vocabulary cannot describe. Both are faults of the input files (exit 65); the messages name the file.
import SecuraErrors

/// An error from `GGUFExport`.
public enum GGUFExportError: CategorizedError, CustomStringConvertible, Equatable {
    /// The model has a tensor outside llama.cpp's naming scheme (`GGUFTensorNames`).
    case noGGUFName(source: String, tensor: String)
    /// tokenizer.json is not a byte-level BPE tokenizer, or one of its entries is malformed.
    case unsupportedTokenizer(path: String, reason: String)
    /// A token id at or beyond the model's embedding rows.
    case tokenBeyondVocabulary(path: String, token: String, id: Int, rows: Int)

    public var category: ErrorCategory { .data }

    public var description: String {
        switch self {
        case let .noGGUFName(source, tensor):
            return "\(source): tensor '\(tensor)' has no llama.cpp name; GGUF export writes llama, qwen2 and gemma2 tensors only"
        case let .unsupportedTokenizer(path, reason):
            return "\(path): \(reason)"
        case let .tokenBeyondVocabulary(path, token, id, rows):
            return "\(path): token '\(token)' has id \(id), outside the model's \(rows) embedding rows (0..<\(rows))"
        }
    }
}
