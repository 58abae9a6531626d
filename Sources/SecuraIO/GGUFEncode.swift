// The inverse of the reader's decoding: metadata values to GGUF bytes, and fp32 values to the tensor
// types the writer produces (F32, F16, BF16, Q8_0). Q8_0 follows ggml's reference quantiser
// (quantize_row_q8_0_ref): per block of 32, d = max|x| / 127 in fp32, q = round-half-away(x · (1/d)),
// d stored as f16, so a file written here holds the bytes llama.cpp's own quantiser would write.

import SecuraTensor

/// Serialisation of metadata values and tensor data for `GGUFWriter`.
public enum GGUFEncode {
    /// The tensor types `GGUFWriter` can write from fp32 values.
    public static let writableTypes: [GGMLType] = [.f32, .f16, .bf16, .q8_0]

    /// Appends a length-prefixed UTF-8 string (u64 length, no terminator).
    static func appendString(_ text: String, to bytes: inout [UInt8]) {
        let utf8 = Array(text.utf8)
        appendInteger(UInt64(utf8.count), to: &bytes)
        bytes.append(contentsOf: utf8)
    }

    /// Appends a fixed-width integer, little-endian.
    static func appendInteger<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// Appends `value` without its type code (the caller writes the code where the format wants it).
    /// - Precondition: every element of an array has the array's element type.
    static func appendValue(_ value: GGUFValue, to bytes: inout [UInt8]) {
        switch value {
        case let .uint8(v): appendInteger(v, to: &bytes)
        case let .int8(v): appendInteger(v, to: &bytes)
        case let .uint16(v): appendInteger(v, to: &bytes)
        case let .int16(v): appendInteger(v, to: &bytes)
        case let .uint32(v): appendInteger(v, to: &bytes)
        case let .int32(v): appendInteger(v, to: &bytes)
        case let .uint64(v): appendInteger(v, to: &bytes)
        case let .int64(v): appendInteger(v, to: &bytes)
        case let .float32(v): appendInteger(v.bitPattern, to: &bytes)
        case let .float64(v): appendInteger(v.bitPattern, to: &bytes)
        case let .bool(v): bytes.append(v ? 1 : 0)
        case let .string(s): appendString(s, to: &bytes)
        case let .array(elementType, values):
            appendInteger(elementType.rawValue, to: &bytes)
            appendInteger(UInt64(values.count), to: &bytes)
            for element in values {
                precondition(element.type == elementType, "array of \(elementType) holds a \(element.type)")
                appendValue(element, to: &bytes)
            }
        }
    }

    /// Bytes of `count` values stored as `type` (`count` a whole number of blocks).
    public static func byteCount(_ type: GGMLType, count: Int) -> Int {
        count / type.blockSize * type.bytesPerBlock
    }

    /// Converts `count` fp32 values to `type` at `destination` (`byteCount(type, count:)` bytes).
    /// F16 and BF16 round to nearest even (NaN stays NaN); Q8_0 as ggml's reference quantiser.
    /// - Precondition: `type` is one of `writableTypes` and `count` a multiple of its block size.
    public static func encode(_ type: GGMLType, from source: UnsafePointer<Float>, count: Int,
                              into destination: UnsafeMutableRawPointer) {
        precondition(count % type.blockSize == 0, "\(count) values are not whole \(type) blocks")
        switch type {
        case .f32:
            destination.copyMemory(from: source, byteCount: count * 4)
        case .f16:
            let out = destination.bindMemory(to: UInt16.self, capacity: count)
            for i in 0..<count { out[i] = DTypeConversion.floatToHalf(source[i]).littleEndian }
        case .bf16:
            let out = destination.bindMemory(to: UInt16.self, capacity: count)
            for i in 0..<count { out[i] = DTypeConversion.floatToBF16(source[i]).littleEndian }
        case .q8_0:
            for block in 0..<(count / 32) {
                quantizeQ8Block(source + block * 32, into: destination + block * type.bytesPerBlock)
            }
        default:
            preconditionFailure("GGUFEncode cannot write \(type)")
        }
    }

    /// One Q8_0 block: f16 scale d, then 32 signed bytes q with x ≈ d · q.
    private static func quantizeQ8Block(_ x: UnsafePointer<Float>, into out: UnsafeMutableRawPointer) {
        var amax: Float = 0
        for j in 0..<32 { amax = max(amax, abs(x[j])) }
        let d = amax / 127
        let id: Float = d != 0 ? 1 / d : 0
        let scale = DTypeConversion.floatToHalf(d).littleEndian
        withUnsafeBytes(of: scale) { out.copyMemory(from: $0.baseAddress!, byteCount: 2) }
        let q = (out + 2).bindMemory(to: Int8.self, capacity: 32)
        for j in 0..<32 {
            // Float.rounded() is C's roundf (halves away from zero); |x·id| ≤ 127 up to rounding.
            q[j] = Int8(clamping: Int((x[j] * id).rounded()))
        }
    }
}
