// A bounds-checked little-endian reader over the mapped bytes of a GGUF file. Every read checks the
// bytes left first, and every length or count is checked against them before anything is allocated,
// so a corrupt number becomes a GGUFError naming the field and its byte offset, never a crash.

/// Sequential reader over a GGUF file's bytes.
struct GGUFCursor {
    /// Arrays may hold arrays; deeper nesting than this is rejected (no real file nests at all).
    static let maxArrayDepth = 4

    let bytes: UnsafeRawBufferPointer
    let path: String
    /// The next byte to read.
    private(set) var offset: Int

    init(bytes: UnsafeRawBufferPointer, path: String, offset: Int) {
        self.bytes = bytes
        self.path = path
        self.offset = offset
    }

    /// Bytes left after `offset`.
    var remaining: Int { bytes.count - offset }

    /// Consumes `count` bytes and returns their start offset.
    mutating func take(_ count: Int, _ what: @autoclosure () -> String) throws -> Int {
        guard count >= 0, count <= remaining else {
            throw GGUFError.truncated(path: path, what: what(), offset: offset, needed: count, fileSize: bytes.count)
        }
        let start = offset
        offset += count
        return start
    }

    mutating func read<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
        let at = try take(MemoryLayout<T>.size, what())
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: T.self))
    }

    /// A string: a UInt64 byte length, then that many UTF-8 bytes (no terminator).
    mutating func string(_ what: @autoclosure () -> String) throws -> String {
        let lengthAt = offset
        let length = try read(UInt64.self, "length of " + what())
        guard length <= UInt64(remaining) else {
            throw GGUFError.truncated(path: path, what: what() + " (length \(length) at byte \(lengthAt))",
                                      offset: offset, needed: Int(clamping: length), fileSize: bytes.count)
        }
        let start = try take(Int(length), what())
        let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + Int(length))])
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw GGUFError.invalidUTF8(path: path, what: what(), offset: start)
        }
        return text
    }

    /// One metadata value of `type` (arrays recursively). `key` names the entry in errors.
    mutating func value(_ type: GGUFValueType, key: String, depth: Int = 0) throws -> GGUFValue {
        let what = "value of '\(key)'"
        switch type {
        case .uint8: return .uint8(try read(UInt8.self, what))
        case .int8: return .int8(try read(Int8.self, what))
        case .uint16: return .uint16(try read(UInt16.self, what))
        case .int16: return .int16(try read(Int16.self, what))
        case .uint32: return .uint32(try read(UInt32.self, what))
        case .int32: return .int32(try read(Int32.self, what))
        case .uint64: return .uint64(try read(UInt64.self, what))
        case .int64: return .int64(try read(Int64.self, what))
        case .float32: return .float32(Float(bitPattern: try read(UInt32.self, what)))
        case .float64: return .float64(Double(bitPattern: try read(UInt64.self, what)))
        case .bool:
            let at = offset
            let byte = try read(UInt8.self, what)
            guard byte <= 1 else {
                throw GGUFError.invalidValue(path: path, key: key, offset: at, reason: "bool byte is \(byte), expected 0 or 1")
            }
            return .bool(byte == 1)
        case .string:
            return .string(try string(what))
        case .array:
            return try array(key: key, depth: depth)
        }
    }

    private mutating func array(key: String, depth: Int) throws -> GGUFValue {
        let typeAt = offset
        guard depth < Self.maxArrayDepth else {
            throw GGUFError.invalidValue(path: path, key: key, offset: typeAt,
                                        reason: "arrays nested more than \(Self.maxArrayDepth) deep")
        }
        let code = try read(UInt32.self, "element type of array '\(key)'")
        guard let elementType = GGUFValueType(rawValue: code) else {
            throw GGUFError.unknownValueType(path: path, key: key, offset: typeAt, type: code)
        }
        let countAt = offset
        let count = try read(UInt64.self, "element count of array '\(key)'")
        let limit = remaining / elementType.minimumSize
        guard count <= UInt64(limit) else {
            throw GGUFError.absurdCount(path: path, what: "element count of array '\(key)'", offset: countAt,
                                        count: count, limit: limit)
        }
        var values: [GGUFValue] = []
        values.reserveCapacity(Int(count))
        for _ in 0..<Int(count) {
            values.append(try value(elementType, key: key, depth: depth + 1))
        }
        return .array(elementType: elementType, values: values)
    }
}
