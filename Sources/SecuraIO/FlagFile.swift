// The flag files of `--config FILE`: TOML whose keys are a command's long flags (`lr = 1e-3`,
// `method = "lora"`, `targets = ["q_proj", "v_proj"]`, `skip-bad-lines = true`), turned into the
// arguments they stand for. Lives in a library (not the CLI) so tests and the fuzz target reach the
// same parser the CLI uses; the CLI's ConfigFile reads the file and places these arguments first.
//
// Only what such a file needs is accepted: top-level `key = value` lines with strings, numbers,
// booleans and arrays of those, and comments. Tables, inline tables and dates are rejected by name.
import Foundation
import SecuraErrors

public enum ConfigFileError: CategorizedError, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case syntax(path: String, line: Int, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): return "\(path): cannot read the configuration file: \(reason)"
        case let .syntax(path, line, reason): return "\(path):\(line): \(reason)"
        }
    }

    /// An unreadable file is I/O; a file that is not the TOML subset this reader takes is bad data.
    public var category: ErrorCategory {
        switch self {
        case .unreadable: return .io
        case .syntax: return .data
        }
    }
}

public enum FlagFile {
    /// Arguments equivalent to the flag file `data` (named `path` in errors): `key = true` adds `--key`,
    /// `key = false` adds `--no-key` (every switch of secura-dist has that inverted form), other values
    /// add `--key value` (arrays comma-joined). Unknown keys are reported by the argument parser as unknown options.
    ///
    /// - Throws: `ConfigFileError.unreadable` for bytes that are not UTF-8, `.syntax` naming the line.
    public static func arguments(_ data: Data, path: String) throws -> [String] {
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigFileError.unreadable(path: path, reason: "not UTF-8 text")
        }
        var args: [String] = []
        var seen = Set<String>()
        for (index, rawLine) in text.components(separatedBy: "\n").enumerated() {
            let line = index + 1
            func fail(_ reason: String) -> ConfigFileError { .syntax(path: path, line: line, reason: reason) }
            let stripped = stripComment(rawLine).trimmingCharacters(in: .whitespaces)
            if stripped.isEmpty { continue }
            if stripped.hasPrefix("[") { throw fail("tables are not supported: write every key at the top level") }
            guard let eq = stripped.firstIndex(of: "=") else { throw fail("expected 'key = value'") }
            var key = stripped[..<eq].trimmingCharacters(in: .whitespaces)
            if key.hasPrefix("\""), key.hasSuffix("\""), key.count >= 2 { key = String(key.dropFirst().dropLast()) }
            key = key.replacingOccurrences(of: "_", with: "-")
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else {
                throw fail("'\(excerpt(key))' is not a flag name")
            }
            guard seen.insert(key).inserted else { throw fail("'\(excerpt(key))' is set twice") }
            let valueText = stripped[stripped.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            switch try parseValue(valueText, fail: fail) {
            case let .bool(b): args.append(b ? "--\(key)" : "--no-\(key)")
            case let .scalar(s): args += ["--\(key)", s]
            case let .list(items): args += ["--\(key)", items.joined(separator: ",")]
            }
        }
        return args
    }

    enum Value { case scalar(String), bool(Bool), list([String]) }

    /// Longest value echoed whole in a message; a longer one (a 200 KB line) is cut.
    public static let echoLimit = 80

    /// `text` for an error message: as it is up to `echoLimit` characters, else its first `echoLimit`
    /// characters, "…" and its size in bytes.
    public static func excerpt(_ text: String) -> String {
        guard text.count > echoLimit else { return text }
        return String(text.prefix(echoLimit)) + "… (\(text.utf8.count) bytes)"
    }

    /// `message` with every value of `arguments` longer than `echoLimit` replaced by its excerpt: the
    /// argument parser quotes a rejected value in full.
    public static func shortenEchoes(_ message: String, of arguments: [String]) -> String {
        arguments.filter { $0.count > echoLimit }.sorted { $0.count > $1.count }
            .reduce(message) { $0.replacingOccurrences(of: $1, with: excerpt($1)) }
    }

    static func parseValue(_ text: String, fail: (String) -> ConfigFileError) throws -> Value {
        if text == "true" { return .bool(true) }
        if text == "false" { return .bool(false) }
        if text.hasPrefix("[") {
            guard text.hasSuffix("]") else { throw fail("an array must close on the same line") }
            let inner = text.dropFirst().dropLast()
            var items: [String] = []
            var current = ""
            var quote: Character? = nil
            for ch in inner {
                if let q = quote {
                    if ch == q { quote = nil } else { current.append(ch) }
                } else if ch == "\"" || ch == "'" {
                    quote = ch
                } else if ch == "," {
                    items.append(current.trimmingCharacters(in: .whitespaces)); current = ""
                } else {
                    current.append(ch)
                }
            }
            if quote != nil { throw fail("unterminated string in array") }
            let last = current.trimmingCharacters(in: .whitespaces)
            if !last.isEmpty { items.append(last) }
            return .list(items)
        }
        if text.hasPrefix("\"") {
            guard text.count >= 2, text.hasSuffix("\"") else { throw fail("unterminated string") }
            var out = "", escaped = false
            for ch in text.dropFirst().dropLast() {
                if escaped {
                    switch ch {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "\\", "\"": out.append(ch)
                    default: throw fail("unsupported escape \\\(ch)")
                    }
                    escaped = false
                } else if ch == "\\" {
                    escaped = true
                } else {
                    out.append(ch)
                }
            }
            return .scalar(out)
        }
        if text.hasPrefix("'") {
            guard text.count >= 2, text.hasSuffix("'") else { throw fail("unterminated string") }
            return .scalar(String(text.dropFirst().dropLast()))
        }
        if text.hasPrefix("{") { throw fail("inline tables are not supported") }
        let number = text.replacingOccurrences(of: "_", with: "")
        guard Double(number) != nil else { throw fail("'\(excerpt(text))' is not a string, number, boolean or array") }
        return .scalar(number)
    }

    /// The line without a trailing `# comment` (a # inside quotes is kept).
    static func stripComment(_ line: String) -> String {
        var quote: Character? = nil
        var out = ""
        for ch in line {
            if let q = quote { if ch == q { quote = nil } }
            else if ch == "\"" || ch == "'" { quote = ch }
            else if ch == "#" { break }
            out.append(ch)
        }
        return out
    }
}
