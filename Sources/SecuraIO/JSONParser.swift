// A strict RFC 8259 JSON parser over raw bytes. Model headers are untrusted input, so the parser checks
// UTF-8, limits nesting depth, rejects duplicate keys and trailing garbage, and reports the byte offset
// of the first problem. It is small because the documents it reads are small. `diagnose` is the same
// parser with numbers checked too; readers that decode with Foundation (whose errors say only "not valid
// JSON") call it to tell the user where the problem is.
import SecuraErrors

/// A JSON syntax error (or, from `diagnose`, an out-of-range number) at `offset` bytes into the buffer.
public struct JSONParseError: CategorizedError, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    /// 1-based line and column (in bytes) of `offset`.
    public let line: Int
    public let column: Int
    /// The path of the key being read, e.g. "model.vocab" or "examples[3].input"; empty at the top level.
    public let key: String
    public var category: ErrorCategory { .data }
    /// "line 3, column 8 (byte 25), key 'n': reason".
    public var description: String {
        "line \(line), column \(column) (byte \(offset))" + (key.isEmpty ? "" : ", key '\(key)'") + ": \(reason)"
    }
}

/// Parses one JSON document from a byte buffer.
public struct JSONParser {
    /// Deeper nesting than this is rejected (safetensors headers nest three levels).
    static let maxDepth = 64

    private let bytes: UnsafeRawBufferPointer
    private var position = 0
    private var depth = 0
    /// Keys and array indices from the root to the value being read.
    private var path: [String] = []
    /// Whole numbers must fit `Int` and others a finite `Double` (`diagnose`).
    private let strictNumbers: Bool

    private init(bytes: UnsafeRawBufferPointer, strictNumbers: Bool = false) {
        self.bytes = bytes
        self.strictNumbers = strictNumbers
    }

    /// Parses `bytes` as one JSON value, allowing only whitespace around it.
    ///
    /// - Throws: `JSONParseError` with the offset of the first error.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.position < bytes.count {
            throw parser.error("unexpected \(parser.describeCurrent()) after the end of the JSON value")
        }
        return value
    }

    /// The first problem of `bytes` as JSON, or nil: a syntax error, or a number that does not fit
    /// (a whole number outside −2^63…2^63−1, or a number beyond a 64-bit float's range), with its line,
    /// column and key. For readers whose JSON layer (Foundation) reports failures without a position.
    public static func diagnose(_ bytes: UnsafeRawBufferPointer) -> JSONParseError? {
        var parser = JSONParser(bytes: bytes, strictNumbers: true)
        do {
            parser.skipWhitespace()
            _ = try parser.parseValue()
            parser.skipWhitespace()
            if parser.position < bytes.count {
                return parser.error("unexpected \(parser.describeCurrent()) after the end of the JSON value")
            }
            return nil
        } catch {
            return error as? JSONParseError
        }
    }

    /// `diagnose` over the bytes of an array.
    public static func diagnose(_ bytes: [UInt8]) -> JSONParseError? {
        bytes.withUnsafeBytes { diagnose($0) }
    }

    // MARK: Values

    private mutating func parseValue() throws -> JSONValue {
        guard let byte = peek() else { throw error("unexpected end of input, expected a value") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        default: throw error("unexpected \(describeCurrent()), expected a value")
        }
    }

    private mutating func parseObject() throws -> JSONValue {
        try enterNesting()
        position += 1  // "{"
        var object = JSONObject()
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else {
                throw error("unexpected \(describeCurrent()), expected a string key")
            }
            let keyOffset = position
            let key = try parseString()
            path.append(key)
            skipWhitespace()
            try expect(":", "after object key")
            skipWhitespace()
            let value = try parseValue()
            if !object.insert(key, value) {
                throw error("duplicate key \(JSONText.quoted(key))", at: keyOffset)
            }
            path.removeLast()
            skipWhitespace()
            if peek() == UInt8(ascii: ",") { position += 1; continue }
            try expect("}", "or ',' in object")
            depth -= 1
            return .object(object)
        }
    }

    private mutating func parseArray() throws -> JSONValue {
        try enterNesting()
        position += 1  // "["
        var values: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return .array(values)
        }
        while true {
            skipWhitespace()
            path.append("[\(values.count)]")
            values.append(try parseValue())
            path.removeLast()
            skipWhitespace()
            if peek() == UInt8(ascii: ",") { position += 1; continue }
            try expect("]", "or ',' in array")
            depth -= 1
            return .array(values)
        }
    }

    private mutating func parseNumber() throws -> JSONValue {
        let start = position
        if peek() == UInt8(ascii: "-") { position += 1 }
        guard let first = peek(), isDigit(first) else { throw error("expected a digit in number") }
        if first == UInt8(ascii: "0") {
            position += 1
            if let next = peek(), isDigit(next) { throw error("leading zero in number") }
        } else {
            while let next = peek(), isDigit(next) { position += 1 }
        }
        var isInteger = true
        if peek() == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard let next = peek(), isDigit(next) else { throw error("expected a digit after '.'") }
            while let next = peek(), isDigit(next) { position += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard let next = peek(), isDigit(next) else { throw error("expected a digit in exponent") }
            while let next = peek(), isDigit(next) { position += 1 }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        if isInteger, let value = Int(text) { return .integer(value) }
        if strictNumbers, isInteger {
            throw error("the number \(Self.shortened(text)) is out of range (whole numbers must lie in "
                        + "-9223372036854775808...9223372036854775807)", at: start)
        }
        let value = Double(text) ?? .infinity
        if strictNumbers, !value.isFinite {
            throw error("the number \(Self.shortened(text)) is out of range of a 64-bit float", at: start)
        }
        // Integers too large for Int land here too; the caller rejects them as out of range.
        return .number(value)
    }

    private mutating func parseString() throws -> String {
        let start = position
        position += 1  // opening quote
        var utf8: [UInt8] = []
        while true {
            guard let byte = peek() else {
                throw error("unterminated string", at: start)
            }
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: utf8, as: UTF8.self) else {
                    throw error("string is not valid UTF-8", at: start)
                }
                return text
            case UInt8(ascii: "\\"):
                try parseEscape(into: &utf8)
            case 0..<0x20:
                position -= 1
                throw error("unescaped control character in string")
            default:
                utf8.append(byte)
            }
        }
    }

    private mutating func parseEscape(into utf8: inout [UInt8]) throws {
        guard let byte = peek() else { throw error("unterminated escape sequence") }
        position += 1
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(byte)
        case UInt8(ascii: "b"): utf8.append(0x08)
        case UInt8(ascii: "f"): utf8.append(0x0C)
        case UInt8(ascii: "n"): utf8.append(0x0A)
        case UInt8(ascii: "r"): utf8.append(0x0D)
        case UInt8(ascii: "t"): utf8.append(0x09)
        case UInt8(ascii: "u"):
            var code = try parseHex4()
            if (0xD800..<0xDC00).contains(code) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard peek() == UInt8(ascii: "\\"), peek(1) == UInt8(ascii: "u") else {
                    throw error("unpaired UTF-16 surrogate in \\u escape")
                }
                position += 2
                let low = try parseHex4()
                guard (0xDC00..<0xE000).contains(low) else { throw error("invalid UTF-16 low surrogate") }
                code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00..<0xE000).contains(code) {
                throw error("unpaired UTF-16 surrogate in \\u escape")
            }
            guard let scalar = Unicode.Scalar(code) else { throw error("invalid code point in \\u escape") }
            UTF8.encode(scalar) { utf8.append($0) }
        default:
            position -= 1
            throw error("invalid escape character \(describeCurrent())")
        }
    }

    private mutating func parseHex4() throws -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek(), let digit = hexValue(byte) else {
                throw error("expected 4 hex digits in \\u escape")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    // MARK: Helpers

    private mutating func enterNesting() throws {
        depth += 1
        if depth > Self.maxDepth { throw error("nesting deeper than \(Self.maxDepth) levels") }
    }

    private mutating func expect(_ character: Unicode.Scalar, _ context: String) throws {
        guard peek() == UInt8(ascii: character) else {
            throw error("unexpected \(describeCurrent()), expected '\(character)' \(context)")
        }
        position += 1
    }

    private mutating func expectLiteral(_ literal: String) throws {
        for expected in literal.utf8 {
            guard peek() == expected else { throw error("invalid literal, expected '\(literal)'") }
            position += 1
        }
    }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
            position += 1
        }
    }

    private func peek(_ ahead: Int = 0) -> UInt8? {
        position + ahead < bytes.count ? bytes[position + ahead] : nil
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    private func describeCurrent() -> String {
        guard let byte = peek() else { return "end of input" }
        if byte >= 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + String(byte, radix: 16)
    }

    private func error(_ reason: String, at offset: Int? = nil) -> JSONParseError {
        let offset = offset ?? position
        var line = 1, lineStart = 0
        for i in 0..<min(offset, bytes.count) where bytes[i] == 0x0A {
            line += 1
            lineStart = i + 1
        }
        let key = path.reduce(into: "") { key, part in key += part.hasPrefix("[") || key.isEmpty ? part : "." + part }
        return JSONParseError(offset: offset, reason: reason, line: line, column: offset - lineStart + 1, key: key)
    }

    /// A number's text for a message: long ones are cut in the middle.
    private static func shortened(_ text: String) -> String {
        text.count <= 40 ? text : String(text.prefix(20)) + "…" + String(text.suffix(10)) + " (\(text.count) digits)"
    }
}
