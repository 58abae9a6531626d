// Errors of model loading, validation and running, each naming the file or tensor and what was expected.
import SecuraErrors

public enum ModelError: CategorizedError, CustomStringConvertible {
    /// The model file or its config.json is not there.
    case missingFile(path: String, what: String)
    /// config.json is not valid JSON, or a key has the wrong type.
    case unreadableConfig(path: String, reason: String)
    case unsupportedArchitecture(path: String, found: String, supported: [String])
    /// A configuration key (config.json's, or a GGUF metadata key) is missing or has an impossible value.
    case invalidConfig(path: String, key: String, reason: String)
    /// A configuration size beyond what any supported model has: refused before anything is sized by it.
    case configValueOutOfRange(path: String, key: String, value: Int, limit: Int)
    /// The configuration declares more layers than the weights hold (`found` layers have tensors).
    case layerCountMismatch(path: String, key: String, declared: Int, found: Int)
    case missingTensor(name: String, source: String)
    case shapeMismatch(name: String, source: String, expected: [Int], found: [Int])
    /// The path exists but is neither a model folder nor a .gguf file.
    case notAModel(path: String)
    /// A GGUF q/k tensor whose rows do not split into `heads` heads of an even size.
    case headSplit(path: String, tensor: String, rows: Int, heads: Int)
    /// A token id outside 0..<vocabularySize.
    case tokenOutOfVocabulary(token: Int32, position: Int, vocabularySize: Int)
    /// Generation was asked for with a prompt of no tokens.
    case emptyPrompt
    /// The prompt alone is longer than the context limit.
    case promptTooLong(tokens: Int, contextLimit: Int)
    /// The KV cache was asked to take no tokens (a caller's bug).
    case nothingToFeed
    /// The KV cache cannot take the tokens: `tokens` in all would exceed its capacity.
    case cacheFull(tokens: Int, capacity: Int)

    /// Missing files are I/O; a malformed or inconsistent model is data; a bad request (an empty or too
    /// long prompt) is usage.
    public var category: ErrorCategory {
        switch self {
        case .missingFile: return .io
        case .unreadableConfig, .unsupportedArchitecture, .invalidConfig, .configValueOutOfRange, .layerCountMismatch,
             .missingTensor, .shapeMismatch, .notAModel, .headSplit, .tokenOutOfVocabulary:
            return .data
        case .emptyPrompt, .promptTooLong, .cacheFull: return .usage
        case .nothingToFeed: return .internal
        }
    }

    public var description: String {
        switch self {
        case let .missingFile(path, what):
            return "\(path): file not found (expected the \(what))"
        case let .unreadableConfig(path, reason):
            return "\(path): cannot read the model configuration: \(reason)"
        case let .unsupportedArchitecture(path, found, supported):
            return "\(path): unknown model_type '\(found)'; supported: \(supported.joined(separator: ", "))"
        case let .invalidConfig(path, key, reason):
            return "\(path): '\(key)' \(reason)"
        case let .configValueOutOfRange(path, key, value, limit):
            return "\(path): '\(key)' is \(value), beyond the limit \(limit) of secura-dist (corrupt file?)"
        case let .layerCountMismatch(path, key, declared, found):
            return "\(path): '\(key)' declares \(declared) layers but the weights hold \(found)"
        case let .missingTensor(name, source):
            return "\(source): tensor '\(name)' is missing"
        case let .shapeMismatch(name, source, expected, found):
            return "\(source): tensor '\(name)' has shape \(found), expected \(expected)"
        case let .notAModel(path):
            return "\(path): not a model (expected a folder with config.json and model.safetensors, or a .gguf file)"
        case let .headSplit(path, tensor, rows, heads):
            return "\(path): cannot undo the RoPE permutation of '\(tensor)': \(rows) rows are not \(heads) heads "
                + "of an even head dimension"
        case let .tokenOutOfVocabulary(token, position, vocabularySize):
            return "token id \(token) at position \(position) is outside the vocabulary (0..<\(vocabularySize))"
        case .emptyPrompt:
            return "the prompt has no tokens"
        case let .promptTooLong(tokens, limit):
            return "the prompt has \(tokens) tokens, more than the context limit \(limit)"
        case .nothingToFeed:
            return "no tokens to feed"
        case let .cacheFull(tokens, capacity):
            return "sequence of \(tokens) tokens exceeds the KV cache capacity \(capacity)"
        }
    }
}
