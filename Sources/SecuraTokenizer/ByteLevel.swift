// GPT-2's byte-level alphabet: every byte 0...255 is shown as one printable Unicode character, so a
// vocabulary of strings can hold arbitrary bytes. Printable Latin-1 bytes stand for themselves; the
// other 68 bytes (controls, space, 0x7F-0xA0, 0xAD) map, in byte order, to U+0100 onwards
// (space becomes "Ġ" U+0120, newline "Ċ" U+010A). Hugging Face's ByteLevel pre-tokenizer and decoder,
// llama.cpp and tiktoken-converted vocabularies all use this table.

/// The byte ↔ character table of byte-level BPE.
public enum ByteLevel {
    /// `character[b]` is the character that stands for byte `b`.
    public static let character: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            let printable = (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte)
                || (0xAE...0xFF).contains(byte)
            if printable {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// The byte a character stands for, or nil when the character is not in the table.
    public static func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let value = scalar.value
        guard value < UInt32(reverse.count) else { return nil }
        let byte = reverse[Int(value)]
        return byte < 0 ? nil : UInt8(byte)
    }

    /// Scalar value → byte (or -1); the table's characters all lie below U+0144.
    private static let reverse: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in character.enumerated() { table[Int(scalar.value)] = Int16(byte) }
        return table
    }()

    /// The byte-level spelling of raw bytes (what a vocabulary entry for them looks like).
    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var view = String.UnicodeScalarView()
        for byte in bytes { view.append(character[Int(byte)]) }
        return String(view)
    }

    /// The bytes a byte-level string stands for, or nil when some character is outside the table
    /// (added tokens such as "<|im_end|>" are plain ASCII and so decode to themselves).
    public static func decode(_ token: String) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(token.unicodeScalars.count)
        for scalar in token.unicodeScalars {
            guard let byte = byte(for: scalar) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }
}
