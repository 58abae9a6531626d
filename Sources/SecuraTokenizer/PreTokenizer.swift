// Pre-tokenisation: cutting a text into the pieces that BPE then encodes one by one. Each supported
// family's regular expression is matched by hand here (no regex engine), alternative by alternative in
// the regex's own order, with the backtracking of "\s+(?!\S)" and "\s*[\r\n]+" worked out explicitly:
//
//   GPT-2    's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   Llama 3  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*
//            |\s*[\r\n]+|\s+(?!\S)|\s+
//   Qwen2    as Llama 3 with \p{N} (one digit) instead of \p{N}{1,3}
//   SmolLM2  Digits(individual_digits) first (every \p{N} alone), then GPT-2 on what lies between;
//            llama.cpp's `tokenizer.ggml.pre = smollm` means the same ("\p{N}", then the GPT-2 regex)
//
// Every alternation covers every character, so the matches tile the text with no gaps.

/// A pre-tokenizer family. Each one is a regular expression (or a digit split plus one) that Hugging
/// Face tokenizers applies before byte-level BPE.
public enum PreTokenizer: String, Equatable, Sendable, CaseIterable {
    /// GPT-2's ByteLevel pattern (ByteLevel with use_regex = true).
    case gpt2
    /// Llama 3's Split pattern (tiktoken cl100k style, digits in groups of up to three).
    case llama3
    /// Qwen2's Split pattern (as Llama 3, digits one by one).
    case qwen2
    /// SmolLM2's Sequence [Digits(individual_digits), ByteLevel(use_regex)].
    case smolLM2

    /// Calls `emit` with the scalar ranges of the pieces of `text[range]`, in order.
    func split(_ text: ScalarText, _ range: Range<Int>, _ emit: (Range<Int>) -> Void) {
        switch self {
        case .gpt2:
            var i = range.lowerBound
            while i < range.upperBound {
                let j = Self.gpt2Match(text, i, range.upperBound)
                emit(i..<j)
                i = j
            }
        case .llama3, .qwen2:
            let maxDigits = self == .llama3 ? 3 : 1
            var i = range.lowerBound
            while i < range.upperBound {
                let j = Self.llama3Match(text, i, range.upperBound, maxDigits: maxDigits)
                emit(i..<j)
                i = j
            }
        case .smolLM2:
            var i = range.lowerBound
            while i < range.upperBound {
                if text.classes[i].isNumber {
                    emit(i..<(i + 1))
                    i += 1
                    continue
                }
                var end = i + 1
                while end < range.upperBound && !text.classes[end].isNumber { end += 1 }
                Self.gpt2.split(text, i..<end, emit)
                i = end
            }
        }
    }

    /// The pieces of a string, as strings (for tests and debugging).
    public func pieces(_ string: String) -> [String] {
        let text = ScalarText(string.unicodeScalars)
        var out: [String] = []
        split(text, 0..<text.count) { range in
            out.append(String(String.UnicodeScalarView(text.scalars[range])))
        }
        return out
    }

    // MARK: - The patterns

    /// End of the GPT-2 match that starts at `i` (`end` bounds the piece being split).
    static func gpt2Match(_ text: ScalarText, _ i: Int, _ end: Int) -> Int {
        if let stop = contraction(text.scalars, i, end, foldCase: false) { return stop }
        let classes = text.classes
        // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+": the optional space only counts when the run
        // it prefixes follows it.
        let first = classes[i].isSpace && i + 1 < end ? i + 1 : i
        let kind = classes[first]
        if kind.isLetter { return run(classes, first, end) { $0.isLetter } }
        if kind.isNumber { return run(classes, first, end) { $0.isNumber } }
        if kind.isOther { return run(classes, first, end) { $0.isOther } }
        return whitespaceMatch(classes, i, end)
    }

    /// End of the Llama 3 / Qwen2 match that starts at `i`.
    static func llama3Match(_ text: ScalarText, _ i: Int, _ end: Int, maxDigits: Int) -> Int {
        if let stop = contraction(text.scalars, i, end, foldCase: true) { return stop }
        let classes = text.classes
        let kind = classes[i]
        // "[^\r\n\p{L}\p{N}]?\p{L}+": one optional non-newline, non-letter, non-number, then letters.
        if kind.isLetter { return run(classes, i, end) { $0.isLetter } }
        if !kind.isNewline && !kind.isNumber && i + 1 < end && classes[i + 1].isLetter {
            return run(classes, i + 1, end) { $0.isLetter }
        }
        // "\p{N}{1,3}" (Llama 3) or "\p{N}" (Qwen2).
        if kind.isNumber { return run(classes, i, min(end, i + maxDigits)) { $0.isNumber } }
        // " ?[^\s\p{L}\p{N}]+[\r\n]*"
        let first = kind.isSpace && i + 1 < end && classes[i + 1].isOther ? i + 1 : i
        if classes[first].isOther {
            let others = run(classes, first, end) { $0.isOther }
            return run(classes, others, end) { $0.isNewline }
        }
        // Whitespace from here on. "\s*[\r\n]+": the greedy \s* backs off to the last CR/LF of the run.
        let stop = run(classes, i, end) { $0.isWhitespace }
        var last = stop - 1
        while last >= i && !classes[last].isNewline { last -= 1 }
        if last >= i { return last + 1 }
        return whitespaceMatch(classes, i, end)
    }

    /// "\s+(?!\S)|\s+" at a whitespace scalar: the run, less its last scalar when a non-space follows
    /// and the run is longer than one (that last space then joins the next piece).
    private static func whitespaceMatch(_ classes: [ScalarClass], _ i: Int, _ end: Int) -> Int {
        let stop = run(classes, i, end) { $0.isWhitespace }
        if stop < end && stop - i >= 2 { return stop - 1 }
        return stop
    }

    /// "'s|'t|'re|'ve|'m|'ll|'d", optionally case-insensitive as Oniguruma folds it (which also
    /// folds U+017F LATIN SMALL LETTER LONG S to "s").
    private static func contraction(_ scalars: [Unicode.Scalar], _ i: Int, _ end: Int,
                                    foldCase: Bool) -> Int? {
        guard scalars[i] == "'", i + 1 < end else { return nil }
        func folded(_ scalar: Unicode.Scalar) -> UInt32 {
            let value = scalar.value
            guard foldCase else { return value }
            if (0x41...0x5A).contains(value) { return value + 0x20 }
            return value == 0x17F ? 0x73 : value
        }
        let a = folded(scalars[i + 1])
        if a == 0x73 || a == 0x74 || a == 0x6D || a == 0x64 { return i + 2 }  // s t m d
        guard i + 2 < end else { return nil }
        let b = folded(scalars[i + 2])
        if (a == 0x72 && b == 0x65) || (a == 0x76 && b == 0x65) || (a == 0x6C && b == 0x6C) {
            return i + 3  // re ve ll
        }
        return nil
    }

    /// The first index at or after `i` (below `end`) whose class fails `test`.
    @inline(__always)
    private static func run(_ classes: [ScalarClass], _ i: Int, _ end: Int,
                            _ test: (ScalarClass) -> Bool) -> Int {
        var j = i
        while j < end && test(classes[j]) { j += 1 }
        return j
    }
}
