// Errors of the Jinja interpreter. Every error names the template (its file or origin) and the line,
// so a template that uses something this interpreter does not implement fails with the construct and
// the place, never with a silently different rendering.
import SecuraErrors

/// An error from lexing, parsing or rendering a Jinja template.
public enum JinjaError: CategorizedError, Equatable, CustomStringConvertible {
    /// The template is not valid Jinja (as far as this interpreter can tell).
    case syntax(template: String, line: Int, message: String)
    /// A statement, filter, test, method or global that this interpreter does not implement.
    case unsupported(template: String, line: Int, construct: String)
    /// Rendering failed the way Jinja would fail (undefined attribute, bad operand types, ...).
    case runtime(template: String, line: Int, message: String)
    /// The template called `raise_exception(message)`.
    case raised(template: String, line: Int, message: String)

    /// A template that cannot be run is a bad input file (the tokenizer's or the --chat-template one).
    public var category: ErrorCategory { .data }

    public var description: String {
        switch self {
        case let .syntax(template, line, message):
            return "\(template), line \(line): Jinja syntax error: \(message)"
        case let .unsupported(template, line, construct):
            return "\(template), line \(line): the chat template uses \(construct), which secura-dist's Jinja interpreter does not support"
        case let .runtime(template, line, message):
            return "\(template), line \(line): rendering failed: \(message)"
        case let .raised(template, line, message):
            return "\(template), line \(line): the template raised an exception: \(message)"
        }
    }
}

/// Errors raised deep in evaluation before the template name is known; the interpreter adds it (so
/// one escaping as itself would be a bug).
enum EvalFailure: CategorizedError {
    case unsupported(String, line: Int)
    case runtime(String, line: Int)
    case raised(String, line: Int)

    var category: ErrorCategory { .internal }
}
