// transformers' `tojson` (Python's json.dumps with ensure_ascii=False) and the `strftime` subset that
// `strftime_now` formats dates with.

import Foundation

enum JinjaJSON {
    /// json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=sortKeys): ", " and ": "
    /// separators without indent, "," and ": " with it; floats as Python's repr.
    static func dumps(_ v: JinjaValue, indent: Int?, sortKeys: Bool, line: Int, level: Int = 0) throws -> String {
        let newline = indent.map { "\n" + String(repeating: " ", count: $0 * (level + 1)) }
        let closing = indent.map { "\n" + String(repeating: " ", count: $0 * level) } ?? ""
        let itemSeparator = indent == nil ? ", " : ","
        switch v {
        case .none: return "null"
        case let .bool(b): return b ? "true" : "false"
        case let .int(i): return String(i)
        case let .double(d):
            if d.isNaN { return "NaN" }
            if d.isInfinite { return d > 0 ? "Infinity" : "-Infinity" }
            return JinjaValue.pythonFloat(d)
        case let .string(s): return quote(s)
        case let .list(items):
            if items.isEmpty { return "[]" }
            let parts = try items.map { (newline ?? "") + (try dumps($0, indent: indent, sortKeys: sortKeys, line: line, level: level + 1)) }
            return "[" + parts.joined(separator: itemSeparator) + closing + "]"
        case let .dict(d):
            if d.keys.isEmpty { return "{}" }
            let keys = sortKeys ? d.keys.sorted { $0.unicodeScalars.map(\.value).lexicographicallyPrecedes($1.unicodeScalars.map(\.value)) } : d.keys
            let parts = try keys.map { k in
                (newline ?? "") + quote(k) + ": " + (try dumps(d[k]!, indent: indent, sortKeys: sortKeys, line: line, level: level + 1))
            }
            return "{" + parts.joined(separator: itemSeparator) + closing + "}"
        default:
            throw EvalFailure.runtime("Object of type \(v.typeName) is not JSON serializable", line: line)
        }
    }

    static func quote(_ s: String) -> String {
        var out = "\""
        for c in s.unicodeScalars {
            switch c {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if c.value < 0x20 { out += String(format: "\\u%04x", c.value) } else { out.unicodeScalars.append(c) }
            }
        }
        return out + "\""
    }
}

/// Python's datetime.strftime for the directives templates use (C locale names).
func strftime(_ format: String, _ date: Date, timeZone: TimeZone, line: Int) throws -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = timeZone
    let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
    let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
    let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    func two(_ v: Int?) -> String { String(format: "%02d", v ?? 0) }
    var out = ""
    var percent = false
    for ch in format {
        guard percent else { if ch == "%" { percent = true } else { out.append(ch) }; continue }
        percent = false
        switch ch {
        case "d": out += two(c.day)
        case "m": out += two(c.month)
        case "Y": out += String(c.year ?? 0)
        case "y": out += two((c.year ?? 0) % 100)
        case "b": out += String(months[(c.month ?? 1) - 1].prefix(3))
        case "B": out += months[(c.month ?? 1) - 1]
        case "a": out += String(days[(c.weekday ?? 1) - 1].prefix(3))
        case "A": out += days[(c.weekday ?? 1) - 1]
        case "H": out += two(c.hour)
        case "M": out += two(c.minute)
        case "S": out += two(c.second)
        case "j": out += String(format: "%03d", calendar.ordinality(of: .day, in: .year, for: date) ?? 0)
        case "%": out += "%"
        default: throw EvalFailure.unsupported("the strftime directive %\(ch)", line: line)
        }
    }
    return out
}
