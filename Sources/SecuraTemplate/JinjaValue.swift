// The values a chat template computes with, with Python's semantics where Jinja inherits them:
// truthiness, equality (1 == 1.0 == True), str() for output (True, None, ['a', 1]) and ordering.
// Strings index, slice and measure by Unicode code points, as Python's str does.

/// An ordered string-keyed dictionary (Python dicts keep insertion order; templates print them).
public struct JinjaDict: Equatable {
    public private(set) var keys: [String] = []
    public private(set) var storage: [String: JinjaValue] = [:]

    public init(_ pairs: [(String, JinjaValue)] = []) {
        for (k, v) in pairs { self[k] = v }
    }

    public subscript(key: String) -> JinjaValue? {
        get { storage[key] }
        set {
            if storage[key] == nil, newValue != nil { keys.append(key) }
            if newValue == nil { keys.removeAll { $0 == key } }
            storage[key] = newValue
        }
    }

    public var pairs: [(String, JinjaValue)] { keys.map { ($0, storage[$0]!) } }
}

/// A `namespace()` object: the one mutable value a template can assign attributes to from inside a loop.
public final class JinjaNamespace {
    var attributes: JinjaDict
    init(_ attributes: JinjaDict) { self.attributes = attributes }
}

/// A macro defined by the template: its parameters, body and the scope it was defined in.
public final class JinjaMacro {
    let name: String
    let parameters: [(String, Expr?)]
    let body: [Node]
    let scope: Scope
    init(name: String, parameters: [(String, Expr?)], body: [Node], scope: Scope) {
        self.name = name
        self.parameters = parameters
        self.body = body
        self.scope = scope
    }
}

/// A value in a template: what Python would hold.
public enum JinjaValue: Equatable {
    /// A name or attribute that does not exist (Jinja's default `Undefined`): prints as "", is falsy,
    /// iterates as empty; most other operations on it are errors. The payload says what was missing.
    case undefined(String)
    case none
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case list([JinjaValue])
    case dict(JinjaDict)
    case namespace(JinjaNamespace)
    /// A global function (`raise_exception`, `strftime_now`, `namespace`, `range`, `dict`).
    case function(String)
    /// A method bound to its receiver (`message.content.strip`), called by a following `(...)`.
    indirect case method(JinjaValue, String)
    /// A `{% macro %}`; calling it renders its body to a string.
    case macro(JinjaMacro)

    public static func == (a: JinjaValue, b: JinjaValue) -> Bool {
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): return true
        case let (.string(x), .string(y)): return Array(x.unicodeScalars) == Array(y.unicodeScalars)
        case let (.list(x), .list(y)): return x == y
        case let (.dict(x), .dict(y)):
            return Set(x.keys) == Set(y.keys) && x.keys.allSatisfy { x[$0] == y[$0] }
        case let (.namespace(x), .namespace(y)): return x === y
        case let (.function(x), .function(y)): return x == y
        case let (.method(r1, n1), .method(r2, n2)): return r1 == r2 && n1 == n2
        case let (.macro(x), .macro(y)): return x === y
        default:
            if let x = a.number, let y = b.number { return x == y }
            return false
        }
    }

    /// Int, float or bool as a Double (Python compares them numerically).
    var number: Double? {
        switch self {
        case let .int(v): return Double(v)
        case let .double(v): return v
        case let .bool(v): return v ? 1 : 0
        default: return nil
        }
    }

    /// Python truthiness.
    public var isTruthy: Bool {
        switch self {
        case .undefined, .none: return false
        case let .bool(v): return v
        case let .int(v): return v != 0
        case let .double(v): return v != 0
        case let .string(v): return !v.isEmpty
        case let .list(v): return !v.isEmpty
        case let .dict(v): return !v.keys.isEmpty
        case .namespace, .function, .method, .macro: return true
        }
    }

    public var isUndefined: Bool { if case .undefined = self { return true } else { return false } }

    /// Python's str(): what `{{ value }}` prints.
    public var text: String {
        switch self {
        case .undefined: return ""
        case let .string(v): return v
        default: return repr
        }
    }

    /// Python's repr() (strings in single quotes, as inside a printed list).
    public var repr: String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case let .bool(v): return v ? "True" : "False"
        case let .int(v): return String(v)
        case let .double(v): return Self.pythonFloat(v)
        case let .string(v): return Self.pythonStringRepr(v)
        case let .list(v): return "[" + v.map(\.repr).joined(separator: ", ") + "]"
        case let .dict(d): return "{" + d.pairs.map { Self.pythonStringRepr($0.0) + ": " + $0.1.repr }.joined(separator: ", ") + "}"
        case .namespace: return "<Namespace>"
        case let .function(name): return "<function \(name)>"
        case let .method(_, name): return "<method \(name)>"
        case let .macro(m): return "<Macro '\(m.name)'>"
        }
    }

    static func pythonFloat(_ v: Double) -> String {
        if v.isNaN { return "nan" }
        if v.isInfinite { return v > 0 ? "inf" : "-inf" }
        if v == v.rounded(), abs(v) < 1e16 { return String(format: "%.1f", v) }
        return "\(v)"
    }

    static func pythonStringRepr(_ s: String) -> String {
        let quote: Character = s.contains("'") && !s.contains("\"") ? "\"" : "'"
        var out = String(quote)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if Character(scalar) == quote { out += "\\" + String(quote) }
                else if scalar.value < 0x20 || scalar.value == 0x7F { out += String(format: "\\x%02x", scalar.value) }
                else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + String(quote)
    }

    /// The Python type name, for error messages.
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .double: return "float"
        case .string: return "str"
        case .list: return "list"
        case .dict: return "dict"
        case .namespace: return "Namespace"
        case .function, .method: return "function"
        case .macro: return "Macro"
        }
    }
}

extension JinjaValue {
    /// Builds a value from Swift JSON-like data (String, Int, Double, Bool, arrays, [String: Any]).
    public init(_ any: Any?) {
        switch any {
        case nil: self = .none
        case let v as JinjaValue: self = v
        case let v as String: self = .string(v)
        case let v as Bool: self = .bool(v)
        case let v as Int: self = .int(v)
        case let v as Double: self = .double(v)
        case let v as [Any?]: self = .list(v.map(JinjaValue.init))
        case let v as [(String, Any?)]: self = .dict(JinjaDict(v.map { ($0.0, JinjaValue($0.1)) }))
        case let v as [String: Any?]: self = .dict(JinjaDict(v.keys.sorted().map { ($0, JinjaValue(v[$0]!)) }))
        default: self = .string("\(any!)")
        }
    }
}

/// Python's `str.isspace` set: Unicode White_Space plus the separators U+001C...U+001F.
func isPythonSpace(_ scalar: Unicode.Scalar) -> Bool {
    scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value)
}
