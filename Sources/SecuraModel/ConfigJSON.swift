// A JSON value spelled exactly as Hugging Face writes config.json (Python's json.dumps with indent=2 and
// sort_keys=True): numbers keep their Python spelling ("1e-05", "500000.0"), which a Double would lose.
// Used by make-model to write configs that read like the real models' files.

/// A JSON value for writing configuration files.
public indirect enum ConfigJSON: Sendable, Equatable {
    case int(Int)
    /// A number written as this literal text (e.g. "1e-05", "500000.0").
    case number(String)
    case string(String)
    case bool(Bool)
    case null
    case array([ConfigJSON])
    case object([String: ConfigJSON])

    /// The value as Python's `json.dumps(value, indent=2, sort_keys=True)` writes it (no trailing newline).
    public var text: String { render(level: 0) }

    private func render(level: Int) -> String {
        let pad = String(repeating: " ", count: 2 * (level + 1)), close = String(repeating: " ", count: 2 * level)
        switch self {
        case let .int(v): return String(v)
        case let .number(v): return v
        case let .string(v): return Self.quoted(v)
        case let .bool(v): return v ? "true" : "false"
        case .null: return "null"
        case let .array(items):
            guard !items.isEmpty else { return "[]" }
            return "[\n" + items.map { pad + $0.render(level: level + 1) }.joined(separator: ",\n") + "\n" + close + "]"
        case let .object(members):
            guard !members.isEmpty else { return "{}" }
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            return "{\n" + keys.map { pad + Self.quoted($0) + ": " + (members[$0] ?? .null).render(level: level + 1) }
                .joined(separator: ",\n") + "\n" + close + "}"
        }
    }

    /// A JSON string literal; non-ASCII escaped as \uXXXX, as Python's default `ensure_ascii` does.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for unit in s.utf16 {
            switch unit {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
            default: out += "\\u" + String(repeating: "0", count: 4 - String(unit, radix: 16).count) + String(unit, radix: 16)
            }
        }
        return out + "\""
    }
}
