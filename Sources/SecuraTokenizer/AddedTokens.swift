// Added tokens (special tokens such as <|im_end|> and user-defined ones such as <think>) are found in
// the text before pre-tokenisation and emitted as their own ids, never split by BPE. As in Hugging Face's
// AddedVocabulary, matching is leftmost-longest and non-overlapping; `single_word` rejects a match that
// touches a word character, `lstrip`/`rstrip` swallow the whitespace beside it. Tokens with
// `normalized = true` are matched after the normalizer, the others on the raw text.

/// One added token, with Hugging Face's flags.
public struct AddedToken: Equatable, Sendable {
    public var id: Int
    public var content: String
    /// Special tokens are dropped by `decode(skipSpecialTokens: true)`.
    public var special: Bool
    public var singleWord: Bool
    public var lstrip: Bool
    public var rstrip: Bool
    /// Matched in the normalised text instead of the raw text.
    public var normalized: Bool

    public init(id: Int, content: String, special: Bool, singleWord: Bool = false, lstrip: Bool = false,
                rstrip: Bool = false, normalized: Bool = false) {
        self.id = id
        self.content = content
        self.special = special
        self.singleWord = singleWord
        self.lstrip = lstrip
        self.rstrip = rstrip
        self.normalized = normalized
    }
}

/// A piece of input after added-token matching: plain text (scalar range) or one added token's id.
enum TextSegment: Equatable {
    case text(Range<Int>)
    case token(Int)
}

/// A trie of added-token contents over Unicode scalars.
struct AddedTokenMatcher {
    private struct Node {
        var children: [UInt32: Int32] = [:]
        var token: Int32 = -1  // index into `tokens`
    }
    private var nodes: [Node] = [Node()]
    private var tokens: [AddedToken] = []
    private var firstScalars: Set<UInt32> = []

    init(_ tokens: [AddedToken]) {
        for token in tokens where !token.content.isEmpty { insert(token) }
    }

    var isEmpty: Bool { tokens.isEmpty }

    private mutating func insert(_ token: AddedToken) {
        var node = 0
        for scalar in token.content.unicodeScalars {
            if let child = nodes[node].children[scalar.value] {
                node = Int(child)
            } else {
                nodes.append(Node())
                nodes[node].children[scalar.value] = Int32(nodes.count - 1)
                node = nodes.count - 1
            }
        }
        if nodes[node].token < 0 {  // the first token with this content wins
            tokens.append(token)
            nodes[node].token = Int32(tokens.count - 1)
        }
        firstScalars.insert(token.content.unicodeScalars.first!.value)
    }

    /// The longest token starting at `i`: (token, end index).
    private func longestMatch(_ scalars: [Unicode.Scalar], _ i: Int, _ end: Int) -> (AddedToken, Int)? {
        var node = 0
        var best: (AddedToken, Int)?
        var j = i
        while j < end, let child = nodes[node].children[scalars[j].value] {
            node = Int(child)
            j += 1
            if nodes[node].token >= 0 { best = (tokens[Int(nodes[node].token)], j) }
        }
        return best
    }

    /// Splits `scalars[range]` into text and added-token segments.
    func split(_ scalars: [Unicode.Scalar], _ range: Range<Int>) -> [TextSegment] {
        if tokens.isEmpty || range.isEmpty { return range.isEmpty ? [] : [.text(range)] }
        var segments: [TextSegment] = []
        var textStart = range.lowerBound  // start of the pending plain text
        var i = range.lowerBound
        while i < range.upperBound {
            guard firstScalars.contains(scalars[i].value),
                  let (token, stop) = longestMatch(scalars, i, range.upperBound) else {
                i += 1
                continue
            }
            if token.singleWord {
                let before = i > range.lowerBound && Self.isWordScalar(scalars[i - 1])
                let after = stop < range.upperBound && Self.isWordScalar(scalars[stop])
                if before || after {
                    i = stop  // matches do not overlap: resume after the rejected one
                    continue
                }
            }
            var start = i
            if token.lstrip {
                while start > textStart && scalars[start - 1].properties.isWhitespace { start -= 1 }
            }
            var end = stop
            if token.rstrip {
                while end < range.upperBound && scalars[end].properties.isWhitespace { end += 1 }
            }
            if start > textStart { segments.append(.text(textStart..<start)) }
            segments.append(.token(token.id))
            textStart = end
            i = end
        }
        if textStart < range.upperBound { segments.append(.text(textStart..<range.upperBound)) }
        return segments
    }

    /// Rust regex's Unicode `\w`, which HF's single_word check uses: Alphabetic, marks, decimal
    /// digits, connector punctuation (such as "_") and the joiners U+200C/U+200D.
    private static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        if properties.isAlphabetic || properties.isJoinControl { return true }
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: return true
        default: return false
        }
    }
}
