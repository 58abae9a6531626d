// The parsed form of a template: statements (text, output, if, for, set, break/continue, macro) and
// expressions, each expression carrying the template line it came from for error messages.

struct Expr {
    indirect enum Kind {
        case literal(JinjaValue)
        case name(String)
        case list([Expr])
        case dict([(Expr, Expr)])
        case attribute(Expr, String)
        case item(Expr, Expr)
        case slice(Expr, Expr?, Expr?, Expr?)
        case call(Expr, [Expr], [(String, Expr)])
        case filter(Expr, String, [Expr], [(String, Expr)])
        case test(Expr, String, [Expr], negated: Bool)
        case not(Expr)
        case negate(Expr)
        case binary(String, Expr, Expr)
        case and(Expr, Expr)
        case or(Expr, Expr)
        case conditional(then: Expr, condition: Expr, otherwise: Expr?)
    }

    let kind: Kind
    let line: Int
}

/// The target of a `set`: a variable, or an attribute of a namespace (`ns.found`).
enum SetTarget {
    case name(String)
    case attribute(String, String)
}

indirect enum Node {
    case text(String)
    case output(Expr)
    case conditional([(Expr, [Node])], otherwise: [Node])
    case loop(targets: [String], iterable: Expr, filter: Expr?, body: [Node], otherwise: [Node], line: Int)
    case set(SetTarget, Expr, line: Int)
    case breakLoop(line: Int)
    case continueLoop(line: Int)
    /// `{% macro name(a, b=default) %}body{% endmacro %}`.
    case macro(name: String, parameters: [(String, Expr?)], body: [Node], line: Int)
    /// `{% set name %}body{% endset %}`: the rendered body as a string.
    case captureSet(name: String, body: [Node])
    /// A block rendered in place (transformers' `{% generation %}` marks assistant text; rendering is unchanged).
    case group([Node])
}
