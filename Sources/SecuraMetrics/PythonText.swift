// Python `str` semantics over Unicode scalars, which the reference metrics (NLTK, rouge-score, the
// SQuAD script) are defined by. Python strings are sequences of code points compared code point by
// code point, while Swift's `String` compares grapheme clusters under canonical equivalence ("é" equals
// "e\u{301}"). So every metric here works on `[Unicode.Scalar]` and uses these helpers for `lower()`,
// `split()`, `in` and the `\b` / `\w` of `re`. Case mappings and letter classes come from Swift's
// Unicode tables, limited to the code points the reference Python's (older) Unicode database has.

/// A Python string: a sequence of code points, equal only when the code points are.
typealias Scalars = [Unicode.Scalar]

enum PythonText {
    /// The code points Python's `str.isspace()` accepts (bidirectional class WS, B or S, or category Zs),
    /// which `str.split()` splits on.
    static let whitespace: Set<UInt32> = [
        0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0, 0x1680,
        0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A,
        0x2028, 0x2029, 0x202F, 0x205F, 0x3000,
    ]

    /// The Unicode version of the reference Python's `unicodedata` (3.11: 14.0). Code points assigned
    /// later are unassigned there — no case mapping, not `\w` — while Swift's tables are newer.
    static let unicodeVersion = (major: 14, minor: 0)

    /// Whether Python's Unicode database knows `c` (assigned in `unicodeVersion` or earlier).
    @inline(__always)
    static func isKnownToPython(_ c: Unicode.Scalar) -> Bool {
        guard let age = c.properties.age else { return false }
        return age.major < unicodeVersion.major || (age.major == unicodeVersion.major && age.minor <= unicodeVersion.minor)
    }

    static func scalars(_ text: String) -> Scalars { Array(text.unicodeScalars) }

    static func string(_ scalars: Scalars) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// `c.isspace()`.
    @inline(__always)
    static func isSpace(_ c: Unicode.Scalar) -> Bool {
        c.value < 0x80 ? (c.value == 0x20 || (c.value >= 0x09 && c.value <= 0x0D) || (c.value >= 0x1C && c.value <= 0x1F))
                       : whitespace.contains(c.value)
    }

    /// `text.split()` with no separator: runs of whitespace separate, no empty pieces.
    static func split(_ text: Scalars) -> [Scalars] {
        var pieces: [Scalars] = []
        var current: Scalars = []
        for c in text {
            if isSpace(c) {
                if !current.isEmpty { pieces.append(current); current.removeAll(keepingCapacity: true) }
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }

    /// `text.lower()`: the full lowercase mapping of each code point (so "İ" becomes "i̇"), and Python's
    /// context rule for capital sigma, which becomes final "ς" after a cased letter that is not followed
    /// by one (case-ignorable code points are skipped on both sides).
    static func lower(_ text: Scalars) -> Scalars {
        var out: Scalars = []
        out.reserveCapacity(text.count)
        for (i, c) in text.enumerated() {
            if c.value < 0x80 {
                out.append(c.value >= 0x41 && c.value <= 0x5A ? Unicode.Scalar(c.value + 32)! : c)
            } else if c.value == 0x3A3 {
                out.append(isFinalSigma(text, at: i) ? "\u{3C2}" : "\u{3C3}")
            } else if isKnownToPython(c) {
                out.append(contentsOf: c.properties.lowercaseMapping.unicodeScalars)
            } else {
                out.append(c)
            }
        }
        return out
    }

    /// CPython's `handle_capital_sigma`: \p{cased}\p{case-ignorable}* Σ !(\p{case-ignorable}* \p{cased}).
    private static func isFinalSigma(_ text: Scalars, at i: Int) -> Bool {
        func ignorable(_ c: Unicode.Scalar) -> Bool { isKnownToPython(c) && c.properties.isCaseIgnorable }
        func cased(_ c: Unicode.Scalar) -> Bool { isKnownToPython(c) && c.properties.isCased }
        var j = i - 1
        while j >= 0 && ignorable(text[j]) { j -= 1 }
        guard j >= 0 && cased(text[j]) else { return false }
        j = i + 1
        while j < text.count && ignorable(text[j]) { j += 1 }
        return j == text.count || !cased(text[j])
    }

    /// Whether `re`'s `\w` matches `c` in a `str` pattern: `_` or `str.isalnum()` (a letter of category
    /// L&/Lm/Lo, or a code point with a numeric value).
    static func isWordCharacter(_ c: Unicode.Scalar) -> Bool {
        if c.value < 0x80 {
            let v = c.value
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A) || v == 0x5F
        }
        guard isKnownToPython(c) else { return false }
        switch c.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return true
        default:
            return c.properties.numericType != nil
        }
    }

    /// `needle in haystack` for Python strings (code point substring search; "" is in everything).
    static func contains(_ haystack: Scalars, _ needle: Scalars) -> Bool {
        if needle.isEmpty { return true }
        if needle.count > haystack.count { return false }
        let first = needle[0]
        var start = 0
        while start <= haystack.count - needle.count {
            if haystack[start] == first {
                var k = 1
                while k < needle.count && haystack[start + k] == needle[k] { k += 1 }
                if k == needle.count { return true }
            }
            start += 1
        }
        return false
    }

    /// `text.startswith(prefix)`.
    static func hasPrefix(_ text: Scalars, _ prefix: Scalars) -> Bool {
        prefix.count <= text.count && text[0..<prefix.count].elementsEqual(prefix)
    }

    /// `text.endswith(suffix)`.
    static func hasSuffix(_ text: Scalars, _ suffix: Scalars) -> Bool {
        suffix.count <= text.count && text[(text.count - suffix.count)...].elementsEqual(suffix)
    }
}
