// One task example as the readers produce it, before prompts are built and tokenised.
import SecuraErrors

/// A task example: a prompt and its acceptable answers, or a whole chat.
public struct DataRecord: Sendable, Equatable {
    public enum Content: Sendable, Equatable {
        /// A prompt and its acceptable answers; the first is the training target.
        case promptAnswer(prompt: String, answers: [String])
        /// Chat turns (role, content); assistant turns are the answers.
        case messages([(role: String, content: String)])

        public static func == (a: Content, b: Content) -> Bool {
            switch (a, b) {
            case let (.promptAnswer(p1, a1), .promptAnswer(p2, a2)): return p1 == p2 && a1 == a2
            case let (.messages(m1), .messages(m2)):
                return m1.count == m2.count && zip(m1, m2).allSatisfy { $0.role == $1.role && $0.content == $1.content }
            default: return false
            }
        }
    }

    public var content: Content
    /// For multiple choice: every choice, in the file's order (empty otherwise).
    public var choices: [String]
    /// Where the record came from: "file:line" or "file:example N".
    public var origin: String

    public init(content: Content, choices: [String] = [], origin: String) {
        self.content = content
        self.choices = choices
        self.origin = origin
    }

    /// The acceptable answers (for chats, the last assistant turn).
    public var answers: [String] {
        switch content {
        case let .promptAnswer(_, answers): return answers
        case let .messages(turns): return turns.last(where: { $0.role == "assistant" }).map { [$0.content] } ?? []
        }
    }
}

/// Errors of reading data, each naming the file and the line or example.
public enum DataError: CategorizedError, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case malformed(path: String, line: Int, reason: String)
    case malformedExample(path: String, index: Int, reason: String)
    /// No record left; `reason` says why (no records, all skipped as malformed, an empty part, ...).
    case empty(path: String, reason: String? = nil)
    case unsupportedFormat(path: String)
    /// The chat template could not render a record (`origin` is the record's file and line).
    case template(origin: String, reason: String)

    /// A file that cannot be read is I/O; anything about its contents is data.
    public var category: ErrorCategory {
        switch self {
        case .unreadable: return .io
        case .malformed, .malformedExample, .empty, .unsupportedFormat, .template: return .data
        }
    }

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read the data file: \(reason)"
        case let .malformed(path, line, reason): return "\(path):\(line): \(reason)"
        case let .malformedExample(path, index, reason): return "\(path): example \(index): \(reason)"
        case let .empty(path, reason): return "\(path): no usable examples" + (reason.map { ": \($0)" } ?? "")
        case let .unsupportedFormat(path):
            return "\(path): unknown data format (expected JSON Lines with input/output or messages, or a BIG-bench task.json)"
        case let .template(origin, reason): return "\(origin): cannot render with the chat template: \(reason)"
        }
    }
}

/// Records read from one file, and the lines that were skipped (with --skip-bad-lines).
public struct DataFile: Sendable {
    public var path: String
    public var records: [DataRecord]
    public var skipped: [DataError]

    /// Why a file gave no records: `count` entries (lines or examples), of which `skipped` were malformed.
    static func emptyReason(entries count: Int, noun: String, skipped: [DataError]) -> String {
        guard count > 0 else { return "the file holds no \(noun)s" }
        guard let first = skipped.first else { return "none of its \(count) \(noun)s is a record" }
        return "all \(count) \(noun)\(count == 1 ? " was" : "s were") malformed and skipped; the first: \(first)"
    }
}
