// GSM8K answer extraction and accuracy. Models are prompted to end with "The answer is N." and the
// reference solutions end that way too (the original dataset's "#### N" is also understood). There is
// no reference package, so the rules are fixed here and mirrored by `gsm8k_extract` in
// Tests/Fixtures/metrics/make_golden.py:
//   1. the number right after the last "The answer is" (ASCII case-insensitive, optional ":" and
//      whitespace between) that is followed by one;
//   2. else the first number after the last "####";
//   3. else the last number anywhere in the text.
// A number is `-?\$?[0-9][0-9,]*(\.[0-9]+)?` (ASCII digits only); it is cleaned by removing "," and
// "$" (and a trailing "."), and two answers are equal when their values are ("18.0" == "18", "1,800"
// == "1800").

/// GSM8K final-answer extraction and exact numeric accuracy.
public enum GSM8K {
    /// The cleaned final answer of `text` (e.g. "-1800.5"), or nil when the text has no number.
    public static func extractAnswer(_ text: String) -> String? {
        let s = Array(text.unicodeScalars)
        if let number = lastAnswerIsNumber(s) { return clean(number) }
        if let marker = lastIndex(of: Array("####".unicodeScalars), in: s) {
            var i = marker + 4
            while i < s.count {
                if let end = matchNumber(s, at: i) { return clean(Array(s[i..<end])) }
                i += 1
            }
        }
        var last: Range<Int>? = nil
        var i = 0
        while i < s.count {
            if let end = matchNumber(s, at: i) {
                last = i..<end
                i = end
            } else {
                i += 1
            }
        }
        return last.map { clean(Array(s[$0])) }
    }

    /// 1 when both texts have a final answer and the two are numerically equal, else 0.
    public static func accuracy(prediction: String, gold: String) -> Double {
        guard let p = extractAnswer(prediction).flatMap(Double.init),
              let g = extractAnswer(gold).flatMap(Double.init) else { return 0 }
        return p == g ? 1 : 0
    }

    // MARK: Scanning (the regular expressions of the Python reference, with re.ASCII)

    private static let answerIs = Array("the answer is".unicodeScalars)

    /// `re.findall(r"the answer is\s*:?\s*(NUMBER)", text, re.ASCII | re.IGNORECASE)[-1]`.
    static func lastAnswerIsNumber(_ s: Scalars) -> Scalars? {
        var found: Scalars? = nil
        var i = 0
        while i + answerIs.count <= s.count {
            guard matchesIgnoringASCIICase(s, at: i, answerIs) else {
                i += 1
                continue
            }
            var j = i + answerIs.count
            while j < s.count && isASCIISpace(s[j]) { j += 1 }
            if j < s.count && s[j] == ":" { j += 1 }
            while j < s.count && isASCIISpace(s[j]) { j += 1 }
            if let end = matchNumber(s, at: j) {
                found = Array(s[j..<end])
                i = end
            } else {
                i += 1
            }
        }
        return found
    }

    /// The end of `-?\$?[0-9][0-9,]*(?:\.[0-9]+)?` matched greedily at `start`, or nil.
    static func matchNumber(_ s: Scalars, at start: Int) -> Int? {
        var i = start
        if i < s.count && s[i] == "-" { i += 1 }
        if i < s.count && s[i] == "$" { i += 1 }
        guard i < s.count && isDigit(s[i]) else { return nil }
        i += 1
        while i < s.count && (isDigit(s[i]) || s[i] == ",") { i += 1 }
        if i + 1 < s.count && s[i] == "." && isDigit(s[i + 1]) {
            i += 2
            while i < s.count && isDigit(s[i]) { i += 1 }
        }
        return i
    }

    /// Removes "," and "$", then one trailing ".".
    static func clean(_ number: Scalars) -> String {
        var kept = number.filter { $0 != "," && $0 != "$" }
        if kept.last == "." { kept.removeLast() }
        return PythonText.string(kept)
    }

    private static func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }

    /// `\s` under re.ASCII: space, \t, \n, \r, \f, \v.
    private static func isASCIISpace(_ c: Unicode.Scalar) -> Bool {
        c == " " || (c.value >= 0x09 && c.value <= 0x0D)
    }

    private static func matchesIgnoringASCIICase(_ s: Scalars, at i: Int, _ lowercasePattern: Scalars) -> Bool {
        for k in 0..<lowercasePattern.count {
            var c = s[i + k]
            if c >= "A" && c <= "Z" { c = Unicode.Scalar(c.value + 32)! }
            if c != lowercasePattern[k] { return false }
        }
        return true
    }

    private static func lastIndex(of needle: Scalars, in s: Scalars) -> Int? {
        guard needle.count <= s.count else { return nil }
        var i = s.count - needle.count
        while i >= 0 {
            if s[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i -= 1
        }
        return nil
    }
}
