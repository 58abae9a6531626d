// The character classes the pre-tokenizer patterns test, computed once per scalar: \p{L} (letters),
// \p{N} (numbers), \s (whitespace), plus the exact characters the patterns name (space, CR/LF, the
// apostrophe). Definitions follow Oniguruma, which Hugging Face tokenizers uses: \p{L} is the general
// categories Lu Ll Lt Lm Lo, \p{N} is Nd Nl No, and \s is the Unicode White_Space property (so
// U+0085 and U+00A0 are whitespace, U+001C-U+001F and U+200B are not).

/// Bit flags describing one Unicode scalar for pattern matching.
struct ScalarClass: OptionSet {
    let rawValue: UInt8

    static let letter = ScalarClass(rawValue: 1 << 0)
    static let number = ScalarClass(rawValue: 1 << 1)
    static let whitespace = ScalarClass(rawValue: 1 << 2)
    /// "\r" or "\n" (also whitespace).
    static let newline = ScalarClass(rawValue: 1 << 3)
    /// U+0020 exactly (also whitespace): the optional " ?" of the patterns.
    static let space = ScalarClass(rawValue: 1 << 4)

    /// Anything that is neither letter, number nor whitespace: [^\s\p{L}\p{N}].
    var isOther: Bool { rawValue & 0b111 == 0 }
    var isLetter: Bool { rawValue & ScalarClass.letter.rawValue != 0 }
    var isNumber: Bool { rawValue & ScalarClass.number.rawValue != 0 }
    var isWhitespace: Bool { rawValue & ScalarClass.whitespace.rawValue != 0 }
    var isNewline: Bool { rawValue & ScalarClass.newline.rawValue != 0 }
    var isSpace: Bool { rawValue & ScalarClass.space.rawValue != 0 }

    /// The class of `scalar` (a table for ASCII, Unicode properties otherwise).
    static func of(_ scalar: Unicode.Scalar) -> ScalarClass {
        let value = scalar.value
        if value < 128 { return ascii[Int(value)] }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return scalar.properties.isWhitespace ? .whitespace : []
        }
    }

    private static let ascii: [ScalarClass] = (0..<128).map { value in
        switch value {
        case 0x41...0x5A, 0x61...0x7A: return .letter
        case 0x30...0x39: return .number
        case 0x20: return [.whitespace, .space]
        case 0x0A, 0x0D: return [.whitespace, .newline]
        case 0x09, 0x0B, 0x0C: return .whitespace
        default: return []
        }
    }
}

/// Scalars of one text segment with their classes and UTF-8 offsets, shared by the pre-tokenizer
/// (which works in scalar indices) and the BPE step (which works on bytes).
struct ScalarText {
    var scalars: [Unicode.Scalar] = []
    var classes: [ScalarClass] = []
    /// UTF-8 bytes of the whole segment.
    var utf8: [UInt8] = []
    /// `utf8Offset[i]` is where scalar i starts in `utf8`; one extra entry marks the end.
    var utf8Offset: [Int] = []

    init<S: Sequence>(_ source: S) where S.Element == Unicode.Scalar {
        utf8Offset.append(0)
        for scalar in source { append(scalar) }
    }

    var count: Int { scalars.count }

    mutating func append(_ scalar: Unicode.Scalar) {
        scalars.append(scalar)
        classes.append(ScalarClass.of(scalar))
        UTF8.encode(scalar) { utf8.append($0) }
        utf8Offset.append(utf8.count)
    }

    /// The bytes of scalars `range`.
    func bytes(_ range: Range<Int>) -> ArraySlice<UInt8> {
        utf8[utf8Offset[range.lowerBound]..<utf8Offset[range.upperBound]]
    }
}
