// A minimal JSON value for small, untrusted JSON documents: safetensors headers, shard indexes, and task
// files whose key order matters (BIG-bench's target_scores). Integers are kept exact (as `Int`) so every offset and dimension can be validated
// without a round trip through Double; objects keep key order and reject duplicate keys.

/// A parsed JSON value.
public enum JSONValue {
    case object(JSONObject)
    case array([JSONValue])
    case string(String)
    /// A number written without fraction or exponent that fits in `Int`.
    case integer(Int)
    /// Any other number (fractional, exponent form, or an integer too large for `Int`).
    case number(Double)
    case bool(Bool)
    case null

    /// A short name of the value's kind for error messages ("a string", "an array", ...).
    public var kind: String {
        switch self {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .integer, .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }

    /// The value as written in the JSON source (compact), for quoting bad values in error messages.
    var compactText: String {
        switch self {
        case let .object(object):
            let members = object.keys.map { JSONText.quoted($0) + ":" + (object[$0]?.compactText ?? "null") }
            return "{" + members.joined(separator: ",") + "}"
        case let .array(values): return "[" + values.map(\.compactText).joined(separator: ",") + "]"
        case let .string(text): return JSONText.quoted(text)
        case let .integer(value): return String(value)
        case let .number(value): return String(value)
        case let .bool(value): return value ? "true" : "false"
        case .null: return "null"
        }
    }
}

/// A JSON object: unique keys in source order.
public struct JSONObject {
    public private(set) var keys: [String] = []
    private var values: [String: JSONValue] = [:]

    public var count: Int { keys.count }

    public subscript(key: String) -> JSONValue? { values[key] }

    /// Adds a member; returns false (and changes nothing) if the key is already present.
    mutating func insert(_ key: String, _ value: JSONValue) -> Bool {
        if values[key] != nil { return false }
        keys.append(key)
        values[key] = value
        return true
    }
}

/// JSON text output helpers.
enum JSONText {
    /// `text` as a JSON string literal: quotes, backslashes and control characters escaped.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
