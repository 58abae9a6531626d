// Every way loading a tokenizer or rendering a chat can fail, each with a one-line message naming the
// file (or GGUF source) and what was expected versus found. The CLI prints `description` as-is.
import SecuraErrors

/// An error from SecuraTokenizer. `source` is the file path (tokenizer.json, tokenizer_config.json, a
/// GGUF file) or, for in-memory input, the name the caller gave it.
public enum TokenizerError: CategorizedError, CustomStringConvertible, Equatable {
    /// The file does not exist or cannot be read.
    case cannotRead(source: String, reason: String)
    /// The file is not valid JSON, or its top level is not an object.
    case invalidJSON(source: String, reason: String)
    /// A required field is absent.
    case missingField(source: String, field: String)
    /// A field is present but has the wrong type or an impossible value.
    case invalidField(source: String, field: String, reason: String)
    /// The tokenizer uses a feature secura-dist does not implement (`what` names it).
    case unsupported(source: String, what: String)
    /// A merge rule names a token that is not in the vocabulary, or is not two tokens.
    case invalidMerge(source: String, index: Int, merge: String, reason: String)
    /// Two entries claim the same id, or an id lies outside the vocabulary.
    case invalidTokenID(source: String, token: String, id: Int, reason: String)
    /// The chat template cannot serve its purpose: e.g. its rendering of a prompt is not a prefix of its
    /// rendering of the prompt with the answer, so answer-only loss masks cannot be computed from it.
    case unsupportedChatTemplate(source: String, reason: String)
    /// The tokenizer has no chat template at all.
    case noChatTemplate(source: String)
    /// A conversation cannot be split for training (e.g. it does not end with an assistant turn).
    case invalidConversation(reason: String)

    /// An unreadable file is I/O; a tokenizer without a chat template is a usage error (the run must
    /// give one or not use chat); everything else is a malformed or unsupported input file.
    public var category: ErrorCategory {
        switch self {
        case .cannotRead: return .io
        case .noChatTemplate: return .usage
        default: return .data
        }
    }

    public var description: String {
        switch self {
        case let .cannotRead(source, reason):
            return "\(source): cannot read the tokenizer file: \(reason)"
        case let .invalidJSON(source, reason):
            return "\(source): not a valid tokenizer JSON file: \(reason)"
        case let .missingField(source, field):
            return "\(source): required field '\(field)' is missing"
        case let .invalidField(source, field, reason):
            return "\(source): field '\(field)' is invalid: \(reason)"
        case let .unsupported(source, what):
            return "\(source): unsupported tokenizer configuration: \(what)"
        case let .invalidMerge(source, index, merge, reason):
            return "\(source): merge #\(index) '\(merge)' is invalid: \(reason)"
        case let .invalidTokenID(source, token, id, reason):
            return "\(source): token '\(token)' with id \(id) is invalid: \(reason)"
        case let .unsupportedChatTemplate(source, reason):
            return "\(source): unsupported chat template: \(reason)"
        case let .noChatTemplate(source):
            return "\(source): the tokenizer has no chat template (give one with \(Setting("the chat template", key: "chat_template")), "
                + "or \(Setting("turn chat off", key: "no_chat")))"
        case let .invalidConversation(reason):
            return "invalid conversation: \(reason)"
        }
    }
}
