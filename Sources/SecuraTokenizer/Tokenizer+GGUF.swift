// Building a tokenizer from the arrays a GGUF file carries (tokenizer.ggml.*). The GGUF reader lives in
// SecuraIO; it fills `GGUFTokenizerData` and this file turns it into the same tokenizer the model's
// tokenizer.json would give: `pre` picks the pre-tokenizer (and Llama 3's ignore_merges, Qwen2's NFC),
// control and user-defined tokens become added tokens, and add_bos_token sets the post-processor.

/// The tokenizer metadata of a GGUF file, as stored.
public struct GGUFTokenizerData: Sendable {
    /// `tokenizer.ggml.model`: only "gpt2" (byte-level BPE) is supported.
    public var model: String
    /// `tokenizer.ggml.pre`: "smollm", "llama-bpe" (also "llama3"), "qwen2", "gpt-2".
    public var pre: String
    /// `tokenizer.ggml.tokens`: token strings in byte-level spelling, index = id.
    public var tokens: [String]
    /// `tokenizer.ggml.merges`: "left right", rank = index.
    public var merges: [String]
    /// `tokenizer.ggml.token_type`: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte.
    /// Empty means all normal.
    public var tokenTypes: [Int]
    public var bosID: Int?
    public var eosID: Int?
    public var unknownID: Int?
    public var paddingID: Int?
    /// `tokenizer.ggml.add_bos_token` / `add_eos_token`.
    public var addBOS: Bool
    public var addEOS: Bool
    /// `tokenizer.chat_template`.
    public var chatTemplate: String?

    public init(model: String = "gpt2", pre: String, tokens: [String], merges: [String], tokenTypes: [Int],
                bosID: Int? = nil, eosID: Int? = nil, unknownID: Int? = nil, paddingID: Int? = nil,
                addBOS: Bool = false, addEOS: Bool = false, chatTemplate: String? = nil) {
        self.model = model
        self.pre = pre
        self.tokens = tokens
        self.merges = merges
        self.tokenTypes = tokenTypes
        self.bosID = bosID
        self.eosID = eosID
        self.unknownID = unknownID
        self.paddingID = paddingID
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.chatTemplate = chatTemplate
    }
}

extension Tokenizer {
    /// Builds a tokenizer from GGUF tokenizer metadata. `source` (the GGUF path) names it in errors.
    ///
    /// - Throws: `TokenizerError.unsupported` for a non-BPE model or an unknown `pre`;
    ///   `.invalidField` / `.invalidTokenID` / `.invalidMerge` for inconsistent arrays or ids.
    public convenience init(gguf data: GGUFTokenizerData, source: String) throws {
        guard data.model == "gpt2" else {
            throw TokenizerError.unsupported(source: source,
                what: "tokenizer.ggml.model '\(data.model)' (only 'gpt2', byte-level BPE, is supported)")
        }
        let preTokenizer: PreTokenizer
        var normalizer: TextNormalizer?
        var ignoreMerges = false
        switch data.pre {
        case "smollm": preTokenizer = .smolLM2
        case "llama-bpe", "llama3": preTokenizer = .llama3; ignoreMerges = true
        case "qwen2": preTokenizer = .qwen2; normalizer = .nfc
        case "gpt-2", "gpt2": preTokenizer = .gpt2
        default:
            throw TokenizerError.unsupported(source: source,
                what: "tokenizer.ggml.pre '\(data.pre)' (supported: smollm, llama-bpe, qwen2, gpt-2)")
        }
        guard !data.tokens.isEmpty else {
            throw TokenizerError.invalidField(source: source, field: "tokenizer.ggml.tokens", reason: "the array is empty")
        }
        guard data.tokenTypes.isEmpty || data.tokenTypes.count == data.tokens.count else {
            throw TokenizerError.invalidField(source: source, field: "tokenizer.ggml.token_type",
                reason: "\(data.tokenTypes.count) entries for \(data.tokens.count) tokens")
        }

        var vocab: [String: Int] = [:]
        vocab.reserveCapacity(data.tokens.count)
        var duplicates: [Int: String] = [:]
        var added: [AddedToken] = []
        for (id, token) in data.tokens.enumerated() {
            let type = data.tokenTypes.isEmpty ? 1 : data.tokenTypes[id]
            guard (1...6).contains(type) else {
                throw TokenizerError.invalidField(source: source, field: "tokenizer.ggml.token_type[\(id)]",
                    reason: "type \(type) is not one of 1...6")
            }
            if vocab[token] == nil { vocab[token] = id } else { duplicates[id] = token }
            // Control (3) and user-defined (4) tokens are matched in the text whole, as HF's added tokens.
            if type == 3 || type == 4, !token.isEmpty {
                added.append(AddedToken(id: id, content: token, special: type == 3))
            }
        }

        var merges: [(String, String)] = []
        merges.reserveCapacity(data.merges.count)
        for (index, line) in data.merges.enumerated() {
            merges.append(try HuggingFaceTokenizerFile.splitMerge(line, index: index, source: source))
        }

        for (name, id) in [("bos", data.bosID), ("eos", data.eosID), ("unknown", data.unknownID),
                           ("padding", data.paddingID)] {
            if let id, !(0..<data.tokens.count).contains(id) {
                throw TokenizerError.invalidField(source: source, field: "tokenizer.ggml.\(name)_token_id",
                    reason: "token id \(id) is outside the vocabulary of \(data.tokens.count) tokens")
            }
        }
        if data.addBOS && data.bosID == nil {
            throw TokenizerError.invalidField(source: source, field: "tokenizer.ggml.add_bos_token",
                                              reason: "true, but tokenizer.ggml.bos_token_id is missing")
        }
        if data.addEOS && data.eosID == nil {
            throw TokenizerError.invalidField(source: source, field: "tokenizer.ggml.add_eos_token",
                                              reason: "true, but tokenizer.ggml.eos_token_id is missing")
        }

        // HF's byte-level BPE has no unknown token; llama.cpp's unknown id is kept as metadata only.
        let parts = TokenizerComponents(
            source: source, vocab: vocab, extraTokens: duplicates, merges: merges, ignoreMerges: ignoreMerges,
            addedTokens: added, preTokenizer: preTokenizer, normalizer: normalizer,
            prefixIDs: data.addBOS ? [data.bosID!] : [], suffixIDs: data.addEOS ? [data.eosID!] : [],
            specialTokens: SpecialTokens(bos: data.bosID, eos: data.eosID, unknown: data.unknownID,
                                         padding: data.paddingID),
            chatTemplate: data.chatTemplate)
        try self.init(parts)
    }
}
