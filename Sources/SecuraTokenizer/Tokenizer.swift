// The tokenizer: text → ids and ids → text for byte-level BPE models (GPT-2, Llama 3, Qwen2, SmolLM2).
// Encoding follows Hugging Face tokenizers step by step: added tokens are cut out of the raw text, the
// rest is normalised (NFC for Qwen2), pre-tokenised by the family's pattern and BPE-encoded piece by
// piece; the post-processor then adds BOS/EOS when asked. Decoding maps each token back to its bytes and
// replaces invalid UTF-8 with U+FFFD. Loaders: Tokenizer+HuggingFace.swift (with HuggingFaceTokenizerFile.swift)
// and Tokenizer+GGUF.swift.

import Foundation

/// Ids of the tokens with a fixed role. Any of them may be absent.
public struct SpecialTokens: Equatable, Sendable {
    public var bos: Int?
    public var eos: Int?
    public var unknown: Int?
    public var padding: Int?

    public init(bos: Int? = nil, eos: Int? = nil, unknown: Int? = nil, padding: Int? = nil) {
        self.bos = bos
        self.eos = eos
        self.unknown = unknown
        self.padding = padding
    }
}

/// A text normalizer applied before pre-tokenisation.
public enum TextNormalizer: String, Equatable, Sendable {
    /// Unicode canonical composition (Qwen2's tokenizer.json).
    case nfc

    /// The normalised text.
    ///
    /// Uses the standard library's NFC (`_nfcCodeUnits`, the one String comparison relies on), not
    /// Foundation's `precomposedStringWithCanonicalMapping`: on Linux the latter truncates astral
    /// scalars followed by a combining mark (U+10075 U+0308 becomes "ü"), skips Hangul LV+T
    /// composition and leaves singletons such as U+0340 and U+0344 alone.
    public func normalize(_ text: String) -> String {
        switch self {
        case .nfc: return String(decoding: text._nfcCodeUnits, as: UTF8.self)
        }
    }
}

/// Everything a loader parses; the tokenizer is built from it.
struct TokenizerComponents {
    var source: String
    /// Byte-level token string → id (the BPE model's vocabulary, not the added tokens).
    var vocab: [String: Int]
    /// Id → token string for ids whose string appears more than once (GGUF allows duplicates).
    var extraTokens: [Int: String] = [:]
    var merges: [(String, String)]
    var ignoreMerges: Bool
    /// The BPE model's own unknown token (replaces bytes missing from the vocabulary).
    var bpeUnknownID: Int? = nil
    var addedTokens: [AddedToken]
    var preTokenizer: PreTokenizer
    var normalizer: TextNormalizer?
    /// Ids the post-processor puts before / after the sequence when special tokens are added.
    var prefixIDs: [Int]
    var suffixIDs: [Int]
    var specialTokens: SpecialTokens
    var chatTemplate: String?
}

/// A byte-level BPE tokenizer. Thread-safe: encoding from several threads at once is allowed.
public final class Tokenizer: @unchecked Sendable {
    /// Where the tokenizer came from (a file path or the name a caller gave), for messages.
    public let source: String
    /// The pre-tokenizer family.
    public let preTokenizer: PreTokenizer
    /// The normalizer, if any.
    public let normalizer: TextNormalizer?
    /// Added tokens (special and user-defined), matched in the text before BPE.
    public let addedTokens: [AddedToken]
    /// BOS / EOS / UNK / PAD ids.
    public let specialTokens: SpecialTokens
    /// Ids added before / after the text by `encode(_:addSpecialTokens: true)`.
    public let prefixIDs: [Int]
    public let suffixIDs: [Int]
    /// The raw chat template (Jinja source) from tokenizer_config.json / chat_template.jinja / GGUF.
    public let chatTemplateSource: String?
    /// One more than the largest id (model vocabulary and added tokens together).
    public let vocabularySize: Int

    let model: BPEModel
    private let rawMatcher: AddedTokenMatcher
    private let normalizedMatcher: AddedTokenMatcher
    private let tokenStrings: [String?]
    private let decodedBytes: [UInt8]
    private let decodedOffsets: [Int]
    private let isSpecialID: [Bool]

    init(_ parts: TokenizerComponents) throws {
        source = parts.source
        preTokenizer = parts.preTokenizer
        normalizer = parts.normalizer
        addedTokens = parts.addedTokens
        specialTokens = parts.specialTokens
        prefixIDs = parts.prefixIDs
        suffixIDs = parts.suffixIDs
        chatTemplateSource = parts.chatTemplate
        model = try BPEModel(vocab: parts.vocab, merges: parts.merges, ignoreMerges: parts.ignoreMerges,
                             unknownID: parts.bpeUnknownID, source: parts.source)
        rawMatcher = AddedTokenMatcher(parts.addedTokens.filter { !$0.normalized })
        // Normalised tokens are looked for in normalised text, so their content is normalised too.
        normalizedMatcher = AddedTokenMatcher(parts.addedTokens.filter { $0.normalized }.map { token in
            var token = token
            if let normalizer = parts.normalizer { token.content = normalizer.normalize(token.content) }
            return token
        })

        var strings: [String?] = []
        func place(_ id: Int, _ token: String) {
            if id >= strings.count { strings += [String?](repeating: nil, count: id + 1 - strings.count) }
            strings[id] = token
        }
        for (token, id) in parts.vocab { place(id, token) }
        for (id, token) in parts.extraTokens { place(id, token) }
        var special = [Bool](repeating: false, count: 0)
        for token in parts.addedTokens {
            place(token.id, token.content)
            if token.id >= special.count { special += [Bool](repeating: false, count: token.id + 1 - special.count) }
            special[token.id] = special[token.id] || token.special
        }
        vocabularySize = strings.count
        special += [Bool](repeating: false, count: strings.count - special.count)
        isSpecialID = special
        tokenStrings = strings

        // Name the field each id came from: the message must let the user find it in the file.
        let named: [(field: String, id: Int?)] = parts.prefixIDs.map { ("post_processor (prefix)", $0) }
            + parts.suffixIDs.map { ("post_processor (suffix)", $0) }
            + [("bos_token", parts.specialTokens.bos), ("eos_token", parts.specialTokens.eos),
               ("unk_token", parts.specialTokens.unknown), ("pad_token", parts.specialTokens.padding)]
        for case let (field, id?) in named where id < 0 || id >= strings.count || strings[id] == nil {
            throw TokenizerError.invalidField(source: parts.source, field: field,
                                              reason: "token id \(id) is outside the vocabulary (no token has it; \(strings.count) ids)")
        }

        // Hugging Face's ByteLevel decoder: a token whose characters are all in the byte table
        // stands for those bytes; any other token (e.g. an added token with a space) for its UTF-8.
        var bytes: [UInt8] = []
        var offsets: [Int] = [0]
        offsets.reserveCapacity(strings.count + 1)
        for token in strings {
            if let token { bytes += ByteLevel.decode(token) ?? Array(token.utf8) }
            offsets.append(bytes.count)
        }
        decodedBytes = bytes
        decodedOffsets = offsets
    }

    // MARK: - Encoding

    /// Token ids of `text`.
    ///
    /// - Parameter addSpecialTokens: add the post-processor's tokens (e.g. Llama 3's
    ///   `<|begin_of_text|>`); true by default, as in Hugging Face. SmolLM2 and Qwen2 add none.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(text.utf8.count / 3 + prefixIDs.count + suffixIDs.count)
        if addSpecialTokens { ids += prefixIDs }
        let scalars = Array(text.unicodeScalars)
        for segment in rawMatcher.split(scalars, 0..<scalars.count) {
            switch segment {
            case let .token(id): ids.append(id)
            case let .text(range): encodePlain(scalars[range], into: &ids)
            }
        }
        if addSpecialTokens { ids += suffixIDs }
        return ids
    }

    /// Token ids of raw bytes; invalid UTF-8 is replaced by U+FFFD first (maximal subparts, as
    /// Python's `errors="replace"` and Rust's `from_utf8_lossy` do).
    public func encode(bytes: [UInt8], addSpecialTokens: Bool = true) -> [Int] {
        encode(String(decoding: bytes, as: UTF8.self), addSpecialTokens: addSpecialTokens)
    }

    /// Normalises, pre-tokenises and BPE-encodes text that holds no raw-matched added token.
    private func encodePlain(_ scalars: ArraySlice<Unicode.Scalar>, into ids: inout [Int]) {
        var text: ScalarText
        if let normalizer {
            // NFC never acts across a line feed (a starter that composes with nothing), so lines are
            // normalised one by one, and lines of scalars below U+0300 (all NFC-stable) not at all.
            text = ScalarText([])
            var lineStart = scalars.startIndex
            while lineStart < scalars.endIndex {
                let lineEnd = scalars[lineStart...].firstIndex(of: "\n").map { $0 + 1 } ?? scalars.endIndex
                let line = scalars[lineStart..<lineEnd]
                if line.contains(where: { $0.value >= 0x300 }) {
                    for scalar in normalizer.normalize(String(String.UnicodeScalarView(line))).unicodeScalars {
                        text.append(scalar)
                    }
                } else {
                    for scalar in line { text.append(scalar) }
                }
                lineStart = lineEnd
            }
        } else {
            text = ScalarText(scalars)
        }
        let segments = normalizedMatcher.isEmpty
            ? [TextSegment.text(0..<text.count)] : normalizedMatcher.split(text.scalars, 0..<text.count)
        for segment in segments {
            switch segment {
            case let .token(id):
                ids.append(id)
            case let .text(range):
                preTokenizer.split(text, range) { piece in model.encode(text.bytes(piece), into: &ids) }
            }
        }
    }

    // MARK: - Decoding

    /// The text of `ids`. Bytes that do not form valid UTF-8 (e.g. half of an emoji) become U+FFFD.
    /// Ids outside the vocabulary are skipped.
    ///
    /// - Parameter skipSpecialTokens: leave out special added tokens (BOS, <|im_end|>, ...). False by
    ///   default, as in transformers' `decode`.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        String(decoding: decodeBytes(ids, skipSpecialTokens: skipSpecialTokens), as: UTF8.self)
    }

    /// The raw bytes of `ids`, for streaming output that must join tokens before UTF-8 decoding.
    public func decodeBytes(_ ids: [Int], skipSpecialTokens: Bool = false) -> [UInt8] {
        var out: [UInt8] = []
        for id in ids where id >= 0 && id < vocabularySize {
            if skipSpecialTokens && isSpecialID[id] { continue }
            out += decodedBytes[decodedOffsets[id]..<decodedOffsets[id + 1]]
        }
        return out
    }

    // MARK: - Vocabulary

    /// The token string (byte-level spelling, or an added token's content) of `id`.
    public func token(forID id: Int) -> String? {
        id >= 0 && id < tokenStrings.count ? tokenStrings[id] : nil
    }

    /// The id of a token string: an added token's content or a byte-level vocabulary entry.
    public func id(forToken token: String) -> Int? {
        if let added = addedTokens.first(where: { $0.content == token }) { return added.id }
        return model.vocab[token]
    }

    /// Whether `id` is a special added token (skipped by `decode(skipSpecialTokens: true)`).
    public func isSpecial(_ id: Int) -> Bool {
        id >= 0 && id < isSpecialID.count && isSpecialID[id]
    }
}
