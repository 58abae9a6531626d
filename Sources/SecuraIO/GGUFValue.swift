// One GGUF metadata value, as stored (no widening), with lossless conversions for callers that do not
// care whether the writer chose UINT32 or INT64 for a count.

/// A metadata value: a scalar, a string, or an array of values of one type (arrays may nest).
public indirect enum GGUFValue: Sendable, Equatable, CustomStringConvertible {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    /// Elements all of `elementType`.
    case array(elementType: GGUFValueType, values: [GGUFValue])

    /// The value's type code.
    public var type: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .uint64: return .uint64
        case .int64: return .int64
        case .float32: return .float32
        case .float64: return .float64
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        }
    }

    /// The value as an `Int` when it is an integer of any width that fits; nil otherwise.
    public var intValue: Int? {
        switch self {
        case let .uint8(v): return Int(v)
        case let .int8(v): return Int(v)
        case let .uint16(v): return Int(v)
        case let .int16(v): return Int(v)
        case let .uint32(v): return Int(v)
        case let .int32(v): return Int(v)
        case let .uint64(v): return Int(exactly: v)
        case let .int64(v): return Int(v)
        default: return nil
        }
    }

    /// The value as a `Double` when it is a float, or an integer (exactly representable or not).
    public var doubleValue: Double? {
        switch self {
        case let .float32(v): return Double(v)
        case let .float64(v): return v
        case let .uint64(v): return Double(v)
        default: return intValue.map(Double.init)
        }
    }

    /// The string, when the value is one.
    public var stringValue: String? {
        if case let .string(s) = self { return s }
        return nil
    }

    /// The bool, when the value is one.
    public var boolValue: Bool? {
        if case let .bool(b) = self { return b }
        return nil
    }

    /// The elements, when the value is an array.
    public var arrayValues: [GGUFValue]? {
        if case let .array(_, values) = self { return values }
        return nil
    }

    /// A short type description for error messages, e.g. "UINT32" or "ARRAY of 49152 STRING".
    public var typeDescription: String {
        if case let .array(elementType, values) = self { return "ARRAY of \(values.count) \(elementType)" }
        return type.description
    }

    /// The value in a compact form; long arrays are abbreviated.
    public var description: String {
        switch self {
        case let .string(s): return "\"\(s)\""
        case let .bool(b): return "\(b)"
        case let .uint64(v): return "\(v)"
        case let .float32(v): return "\(v)"
        case let .float64(v): return "\(v)"
        case let .array(_, values):
            let head = values.prefix(6).map(\.description).joined(separator: ", ")
            return "[" + head + (values.count > 6 ? ", ... (\(values.count) elements)]" : "]")
        default: return intValue.map(String.init) ?? "\(doubleValue ?? .nan)"
        }
    }
}
