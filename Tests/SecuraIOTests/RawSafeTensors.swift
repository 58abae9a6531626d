// Builds safetensors bytes by hand, header text and all, so tests can produce exactly the broken files
// the loader must reject (the writer refuses to produce them).

/// Hand-made safetensors files.
enum RawSafeTensors {
    /// One header member: `"name":{"dtype":..,"shape":[..],"data_offsets":[begin,end]}`.
    static func entry(_ name: String, _ dtype: String, _ shape: [Int], _ begin: Int, _ end: Int) -> String {
        let dims = shape.map(String.init).joined(separator: ",")
        return "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":[\(dims)],\"data_offsets\":[\(begin),\(end)]}"
    }

    /// A header object from members.
    static func header(_ members: String...) -> String {
        "{" + members.joined(separator: ",") + "}"
    }

    /// The file bytes: little-endian length (the real one unless `declaredLength` overrides it), header
    /// text padded with spaces to `padTo` bytes, then `data`.
    static func file(header: String, data: [UInt8], declaredLength: UInt64? = nil, padTo: Int = 8) -> [UInt8] {
        var json = Array(header.utf8)
        if padTo > 1 { json += Array(repeating: UInt8(ascii: " "), count: (padTo - json.count % padTo) % padTo) }
        return lengthPrefix(declaredLength ?? UInt64(json.count)) + json + data
    }

    /// The 8-byte little-endian length prefix.
    static func lengthPrefix(_ length: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) }
    }

    /// Little-endian bytes of fp32 values.
    static func f32Bytes(_ values: [Float]) -> [UInt8] {
        values.flatMap { value in (0..<4).map { UInt8(truncatingIfNeeded: value.bitPattern >> (8 * $0)) } }
    }

    /// Little-endian bytes of 16-bit patterns (f16 or bf16).
    static func u16Bytes(_ values: [UInt16]) -> [UInt8] {
        values.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] }
    }
}
