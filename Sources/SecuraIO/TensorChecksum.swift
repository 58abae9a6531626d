// A fast 64-bit checksum of a tensor's bytes, so that a state file damaged after it was written (a bad
// disk, a stray write, a truncated copy that still parses) is caught on load and named by tensor.
// Not cryptographic: it guards against accidents, not against someone forging a file.
//
// The sum ("word64-1"): h = 0xcbf29ce484222325; for each little-endian 8-byte word w (the last one
// zero-padded): h = mix(h ^ w), where mix(x) = m ^ (m >> 29) with m = (x ^ (x >> 32)) · 0x9e3779b97f4a7c15
// mod 2⁶⁴; then h ^= byte count and h = mix(h). Every step is a bijection of h for a fixed word, so
// changing any one word always changes the sum, and mix spreads a change over the whole word before the
// next word is folded in (a plain multiply would keep a top-bit change in the top bit, where the next
// word's top bit could cancel it).

/// The checksum of a tensor's stored bytes and its form in safetensors metadata.
public enum TensorChecksum {
    /// Name of the sum, stored beside the per-tensor sums.
    public static let algorithm = "word64-1"
    /// Metadata key holding the algorithm name.
    public static let algorithmKey = "checksum"

    /// Metadata key of `tensor`'s sum.
    public static func key(_ tensor: String) -> String { "checksum/" + tensor }

    /// The sum of `bytes`.
    public static func of(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        let words = bytes.count / 8
        if let base = bytes.baseAddress {
            for i in 0..<words {
                h = step(h, UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)))
            }
            if bytes.count % 8 != 0 {
                var tail: UInt64 = 0
                for (k, i) in (8 * words..<bytes.count).enumerated() { tail |= UInt64(bytes[i]) << (8 * UInt64(k)) }
                h = step(h, tail)
            }
        }
        return mix(h ^ UInt64(bytes.count))
    }

    @inline(__always)
    private static func mix(_ x: UInt64) -> UInt64 {
        let m = (x ^ (x >> 32)) &* 0x9e37_79b9_7f4a_7c15
        return m ^ (m >> 29)
    }

    @inline(__always)
    private static func step(_ h: UInt64, _ word: UInt64) -> UInt64 { mix(h ^ word) }

    /// The sum of fp32 values as stored (little-endian).
    public static func of(_ values: [Float]) -> UInt64 {
        values.withUnsafeBytes { of($0) }
    }

    /// 16 lower-case hex digits.
    public static func hex(_ sum: UInt64) -> String {
        let digits = String(sum, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// Why `file`'s tensors do not match the sums in its metadata, or nil when every one does.
    ///
    /// - Parameter required: when true, a file or tensor without a sum is a failure too (formats that
    ///   always write them); when false, a file without any sum passes unchecked (older formats).
    /// - Returns: (tensor, reason) of the first tensor that fails, in name order.
    public static func mismatch(in file: SafeTensorsFile, required: Bool) throws -> (tensor: String, reason: String)? {
        guard required || file.metadata[algorithmKey] != nil else { return nil }
        if let found = file.metadata[algorithmKey], found != algorithm {
            return ("*", "checksum algorithm '\(found)' is not one this version knows ('\(algorithm)')")
        }
        for name in file.names {
            guard let stored = file.metadata[key(name)] else {
                return (name, "no checksum in the file's metadata")
            }
            let computed = hex(of(try file.rawBytes(name)))
            if computed != stored {
                return (name, "checksum \(computed) differs from the stored \(stored)")
            }
        }
        for key in file.metadata.keys.sorted() where key.hasPrefix("checksum/") {
            let tensor = String(key.dropFirst("checksum/".count))
            if !file.contains(tensor) { return (tensor, "the metadata has a checksum for it but the file has no such tensor") }
        }
        return nil
    }
}
