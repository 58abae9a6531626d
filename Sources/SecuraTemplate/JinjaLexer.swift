// Splits a template into text and tag tokens the way Jinja's lexer does with the settings transformers
// uses (trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False):
//   - `{%-`, `{{-`, `{#-` strip all whitespace before the tag; `-%}`, `-}}`, `-#}` all whitespace after;
//   - lstrip_blocks: spaces and tabs from the start of a line up to `{%` or `{#` are removed
//     (not before `{{`, and not when the tag is written `{%+`);
//   - trim_blocks: the first newline after `%}` or `#}` is removed (not after `}}`);
//   - "\r\n" becomes "\n" and a single trailing newline of the template is dropped.
// Inside tags it produces name, number, string and operator tokens, each with its line.

enum TokenKind: Equatable {
    case text(String)
    case blockBegin, blockEnd, variableBegin, variableEnd
    case name(String)
    case string(String)
    case int(Int)
    case float(Double)
    case op(String)
}

struct Token {
    let kind: TokenKind
    let line: Int
}

struct JinjaLexer {
    private let s: [Unicode.Scalar]
    private var pos = 0
    private var line = 1
    private var tokens: [Token] = []
    private let name: String

    init(_ source: String, name: String) {
        var text = source.replacingOccurrences(of: "\r\n", with: "\n")
        if text.hasSuffix("\n") { text.removeLast() }
        s = Array(text.unicodeScalars)
        self.name = name
    }

    static func tokenize(_ source: String, name: String) throws -> [Token] {
        var lexer = JinjaLexer(source, name: name)
        try lexer.run()
        return lexer.tokens
    }

    private func at(_ i: Int, _ literal: String) -> Bool {
        var j = i
        for c in literal.unicodeScalars {
            guard j < s.count, s[j] == c else { return false }
            j += 1
        }
        return true
    }

    private func syntax(_ message: String) -> JinjaError {
        .syntax(template: name, line: line, message: message)
    }

    private mutating func run() throws {
        var lineStarting = true
        while pos < s.count {
            // The next tag opener.
            var tag = pos
            while tag < s.count, !(s[tag] == "{" && tag + 1 < s.count && "{%#".unicodeScalars.contains(s[tag + 1])) {
                tag += 1
            }
            var text = Array(s[pos..<tag])
            let textLine = line
            line += text.filter { $0 == "\n" }.count
            pos = tag
            if tag < s.count {
                let kind = s[tag + 1]
                let sign: Unicode.Scalar? = tag + 2 < s.count && (s[tag + 2] == "-" || s[tag + 2] == "+") ? s[tag + 2] : nil
                if sign == "-" {
                    while let last = text.last, isPythonSpace(last) { text.removeLast() }
                } else if sign != "+", kind != "{" {
                    // lstrip_blocks: only spaces and tabs between the line start and the tag.
                    let lineStart = (text.lastIndex(of: "\n").map { $0 + 1 }) ?? 0
                    if lineStart > 0 || lineStarting, text[lineStart...].allSatisfy({ $0 == " " || $0 == "\t" }) {
                        text.removeSubrange(lineStart...)
                    }
                }
                pos = tag + 2 + (sign == nil ? 0 : 1)
            }
            if !text.isEmpty {
                var str = ""
                str.unicodeScalars.append(contentsOf: text)
                tokens.append(Token(kind: .text(str), line: textLine))
            }
            guard tag < s.count else { break }
            let kind = s[tag + 1]
            var trimNewline = false
            var stripAfter = false
            switch kind {
            case "#":
                guard let end = find("#}") else { throw syntax("unclosed comment") }
                stripAfter = end > pos && s[end - 1] == "-"
                line += s[pos..<end].filter { $0 == "\n" }.count
                pos = end + 2
                trimNewline = true
            default:
                let isBlock = kind == "%"
                tokens.append(Token(kind: isBlock ? .blockBegin : .variableBegin, line: line))
                let closer = isBlock ? "%}" : "}}"
                let sign = try lexTag(until: closer)
                stripAfter = sign == "-"
                tokens.append(Token(kind: isBlock ? .blockEnd : .variableEnd, line: line))
                trimNewline = isBlock && sign != "+"   // `+%}` keeps the newline (Jinja 3)
            }
            let afterTag = pos
            if stripAfter {
                while pos < s.count, isPythonSpace(s[pos]) { if s[pos] == "\n" { line += 1 }; pos += 1 }
            } else if trimNewline, pos < s.count, s[pos] == "\n" {
                pos += 1
                line += 1
            }
            lineStarting = pos > afterTag && s[pos - 1] == "\n"
        }
    }

    private func find(_ literal: String) -> Int? {
        var i = pos
        while i < s.count { if at(i, literal) { return i }; i += 1 }
        return nil
    }

    /// Lexes expression tokens up to the closer; returns the closer's `-` (strip after) or `+` sign.
    private mutating func lexTag(until closer: String) throws -> Character? {
        while true {
            while pos < s.count, isPythonSpace(s[pos]) { if s[pos] == "\n" { line += 1 }; pos += 1 }
            guard pos < s.count else { throw syntax("missing '\(closer)'") }
            if at(pos, "-" + closer) { pos += 3; return "-" }
            if at(pos, "+" + closer) { pos += 3; return "+" }
            if at(pos, closer) { pos += 2; return nil }
            let c = s[pos]
            if c == "_" || c.properties.isAlphabetic {
                var j = pos
                while j < s.count, s[j] == "_" || s[j].properties.isAlphabetic || ("0"..."9").contains(s[j]) { j += 1 }
                tokens.append(Token(kind: .name(string(pos, j)), line: line))
                pos = j
            } else if ("0"..."9").contains(c) {
                var j = pos
                while j < s.count, ("0"..."9").contains(s[j]) || s[j] == "_" { j += 1 }
                if j + 1 < s.count, s[j] == ".", ("0"..."9").contains(s[j + 1]) {
                    j += 1
                    while j < s.count, ("0"..."9").contains(s[j]) { j += 1 }
                    tokens.append(Token(kind: .float(Double(string(pos, j))!), line: line))
                } else {
                    guard let v = Int(string(pos, j).replacingOccurrences(of: "_", with: "")) else { throw syntax("bad number") }
                    tokens.append(Token(kind: .int(v), line: line))
                }
                pos = j
            } else if c == "'" || c == "\"" {
                tokens.append(Token(kind: .string(try lexString(quote: c)), line: line))
            } else {
                let ops = ["//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=",
                           "(", ")", "[", "]", "{", "}", ".", ",", ":", "|"]
                guard let op = ops.first(where: { at(pos, $0) }) else {
                    throw syntax("unexpected character '\(c)'")
                }
                tokens.append(Token(kind: .op(op), line: line))
                pos += op.unicodeScalars.count
            }
        }
    }

    private func string(_ a: Int, _ b: Int) -> String {
        var out = ""
        out.unicodeScalars.append(contentsOf: s[a..<b])
        return out
    }

    /// A string literal with Python's escapes (Jinja decodes literals with 'unicode-escape').
    private mutating func lexString(quote: Unicode.Scalar) throws -> String {
        var out = ""
        pos += 1
        while pos < s.count, s[pos] != quote {
            var c = s[pos]
            if c == "\n" { line += 1 }
            if c == "\\", pos + 1 < s.count {
                pos += 1
                c = s[pos]
                let simple: [Unicode.Scalar: String] = ["n": "\n", "t": "\t", "r": "\r", "\\": "\\", "'": "'",
                                                        "\"": "\"", "a": "\u{07}", "b": "\u{08}", "f": "\u{0C}",
                                                        "v": "\u{0B}", "0": "\u{00}", "\n": ""]
                if let r = simple[c] {
                    out += r
                } else if c == "x" || c == "u" || c == "U" {
                    let n = c == "x" ? 2 : (c == "u" ? 4 : 8)
                    guard pos + n < s.count, let v = UInt32(string(pos + 1, pos + 1 + n), radix: 16),
                          let scalar = Unicode.Scalar(v) else { throw syntax("bad \\\(c) escape in a string") }
                    out.unicodeScalars.append(scalar)
                    pos += n
                } else {
                    out += "\\"
                    out.unicodeScalars.append(c)
                }
            } else {
                out.unicodeScalars.append(c)
            }
            pos += 1
        }
        guard pos < s.count else { throw syntax("unterminated string") }
        pos += 1
        return out
    }
}
