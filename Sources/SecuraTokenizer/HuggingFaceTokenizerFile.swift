// The tokenizer.json parser: the BPE model (vocab, merges, ignore_merges), added tokens, normalizer,
// pre-tokenizer, post-processor and decoder of a Hugging Face tokenizer file, each checked against
// what the byte-level BPE families use. Anything else is refused with the file and the feature named.

import Foundation

/// The tokenizer.json parser.
struct HuggingFaceTokenizerFile {
    let source: String
    private var json: JSONFields { JSONFields(source: source) }

    static let llama3Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
    static let qwen2Pattern = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    func parse(_ data: Data) throws -> TokenizerComponents {
        let root = try json.parseObject(data)
        let model = try json.object(root["model"], "model")
        let type = try json.optionalString(model["type"], "model.type") ?? "BPE"
        guard type == "BPE" else { throw unsupported("model type '\(type)' (only byte-level BPE is supported)") }
        if !json.isNull(model["dropout"]) { throw unsupported("BPE dropout (model.dropout is set)") }
        if try json.bool(model["byte_fallback"], "model.byte_fallback", default: false) {
            throw unsupported("byte_fallback BPE (SentencePiece-style vocabularies such as Llama 2's)")
        }
        for field in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let affix = try json.optionalString(model[field], "model.\(field)"), !affix.isEmpty {
                throw unsupported("model.\(field) = '\(affix)'")
            }
        }

        let vocabObject = try json.object(model["vocab"], "model.vocab")
        var vocab: [String: Int] = [:]
        vocab.reserveCapacity(vocabObject.count)
        var seenIDs = Set<Int>()
        for (token, value) in vocabObject {
            // The fast path avoids building a field name per entry (150k entries).
            let id = try (value as? Int) ?? json.int(value, "model.vocab[\(token)]")
            guard id >= 0, id < 16_777_216 else {
                throw TokenizerError.invalidTokenID(source: source, token: token, id: id, reason: "ids must lie in 0..<2^24 (model.vocab)")
            }
            guard seenIDs.insert(id).inserted else {
                throw TokenizerError.invalidTokenID(source: source, token: token, id: id, reason: "another token has the same id (model.vocab)")
            }
            vocab[token] = id
        }
        let merges = try parseMerges(try json.array(model["merges"], "model.merges"))
        let added = try parseAddedTokens(root["added_tokens"])

        var unknown: Int?
        if let unk = try json.optionalString(model["unk_token"], "model.unk_token") {
            unknown = vocab[unk] ?? added.first(where: { $0.content == unk })?.id
        }
        let (prefix, suffix) = try parsePostProcessor(root["post_processor"], "post_processor")
        try checkDecoder(root["decoder"])
        return TokenizerComponents(
            source: source, vocab: vocab, merges: merges,
            ignoreMerges: try json.bool(model["ignore_merges"], "model.ignore_merges", default: false),
            bpeUnknownID: unknown, addedTokens: added, preTokenizer: try parsePreTokenizer(root["pre_tokenizer"]),
            normalizer: try parseNormalizer(root["normalizer"], "normalizer"),
            prefixIDs: prefix, suffixIDs: suffix,
            specialTokens: SpecialTokens(unknown: unknown), chatTemplate: nil)
    }

    /// Merges as "left right" strings (older files) or [left, right] pairs (tokenizers ≥ 0.20).
    private func parseMerges(_ list: [Any]) throws -> [(String, String)] {
        var merges: [(String, String)] = []
        merges.reserveCapacity(list.count)
        for (index, item) in list.enumerated() {
            if let line = item as? String {
                merges.append(try Self.splitMerge(line, index: index, source: source))
            } else if let pair = item as? [Any], pair.count == 2, let a = pair[0] as? String, let b = pair[1] as? String {
                merges.append((a, b))
            } else {
                throw TokenizerError.invalidMerge(source: source, index: index, merge: "\(item)",
                                                  reason: "expected a string or a pair of strings")
            }
        }
        return merges
    }

    /// "left right" → (left, right); exactly one space.
    static func splitMerge(_ line: String, index: Int, source: String) throws -> (String, String) {
        let bytes = line.utf8
        guard let space = bytes.firstIndex(of: 0x20), !bytes[bytes.index(after: space)...].contains(0x20) else {
            throw TokenizerError.invalidMerge(source: source, index: index, merge: line,
                                              reason: "expected two tokens separated by one space")
        }
        return (String(line[..<space]), String(line[line.index(after: space)...]))
    }

    private func parseAddedTokens(_ value: Any?) throws -> [AddedToken] {
        if json.isNull(value) { return [] }
        return try json.array(value, "added_tokens").enumerated().map { index, item in
            let field = "added_tokens[\(index)]"
            let entry = try json.object(item, field)
            let id = try json.int(entry["id"], field + ".id")
            let content = try json.string(entry["content"], field + ".content")
            guard id >= 0, id < 16_777_216 else {
                throw TokenizerError.invalidTokenID(source: source, token: content, id: id, reason: "ids must lie in 0..<2^24 (\(field).id)")
            }
            return AddedToken(
                id: id, content: content,
                special: try json.bool(entry["special"], field + ".special", default: false),
                singleWord: try json.bool(entry["single_word"], field + ".single_word", default: false),
                lstrip: try json.bool(entry["lstrip"], field + ".lstrip", default: false),
                rstrip: try json.bool(entry["rstrip"], field + ".rstrip", default: false),
                normalized: try json.bool(entry["normalized"], field + ".normalized", default: false))
        }
    }

    private func parseNormalizer(_ value: Any?, _ field: String) throws -> TextNormalizer? {
        if json.isNull(value) { return nil }
        let object = try json.object(value, field)
        let type = try json.string(object["type"], field + ".type")
        switch type {
        case "NFC":
            return .nfc
        case "Sequence":
            let list = try json.array(object["normalizers"], field + ".normalizers")
            let inner = try list.enumerated().compactMap { try parseNormalizer($1, "\(field).normalizers[\($0)]") }
            guard inner.count <= 1 else { throw unsupported("more than one normalizer in \(field)") }
            return inner.first
        default:
            throw unsupported("normalizer '\(type)' (\(field))")
        }
    }

    private func parsePreTokenizer(_ value: Any?) throws -> PreTokenizer {
        if json.isNull(value) { throw unsupported("no pre_tokenizer (byte-level BPE needs ByteLevel)") }
        let object = try json.object(value, "pre_tokenizer")
        let steps: [[String: Any]]
        if try json.string(object["type"], "pre_tokenizer.type") == "Sequence" {
            steps = try json.array(object["pretokenizers"], "pre_tokenizer.pretokenizers").enumerated().map {
                try json.object($1, "pre_tokenizer.pretokenizers[\($0)]")
            }
        } else {
            steps = [object]
        }
        let types = steps.map { $0["type"] as? String ?? "?" }
        func byteLevel(_ step: [String: Any], useRegex: Bool) throws -> Bool {
            guard step["type"] as? String == "ByteLevel" else { return false }
            if try json.bool(step["add_prefix_space"], "pre_tokenizer ByteLevel.add_prefix_space", default: false) {
                throw unsupported("ByteLevel pre-tokenizer with add_prefix_space = true")
            }
            return try json.bool(step["use_regex"], "pre_tokenizer ByteLevel.use_regex", default: true) == useRegex
        }
        if steps.count == 1, try byteLevel(steps[0], useRegex: true) { return .gpt2 }
        if steps.count == 2, steps[0]["type"] as? String == "Digits", try byteLevel(steps[1], useRegex: true) {
            guard try json.bool(steps[0]["individual_digits"], "pre_tokenizer Digits.individual_digits", default: false) else {
                throw unsupported("Digits pre-tokenizer without individual_digits")
            }
            return .smolLM2
        }
        if steps.count == 2, steps[0]["type"] as? String == "Split", try byteLevel(steps[1], useRegex: false) {
            let split = steps[0]
            let pattern = try json.object(split["pattern"], "pre_tokenizer Split.pattern")
            guard let regex = pattern["Regex"] as? String else {
                throw unsupported("Split pre-tokenizer with a plain-string pattern")
            }
            let behavior = try json.optionalString(split["behavior"], "pre_tokenizer Split.behavior") ?? "Isolated"
            let inverted = try json.bool(split["invert"], "pre_tokenizer Split.invert", default: false)
            guard behavior == "Isolated", !inverted else {
                throw unsupported("Split pre-tokenizer with behavior '\(behavior)'\(inverted ? ", inverted" : "")")
            }
            if regex == Self.llama3Pattern { return .llama3 }
            if regex == Self.qwen2Pattern { return .qwen2 }
            throw unsupported("Split pre-tokenizer pattern \(regex) (supported: Llama 3's and Qwen2's)")
        }
        throw unsupported("pre-tokenizer sequence [\(types.joined(separator: ", "))]")
    }

    /// TemplateProcessing's `single` template as (ids before $A, ids after $A); ByteLevel adds nothing.
    private func parsePostProcessor(_ value: Any?, _ field: String) throws -> ([Int], [Int]) {
        if json.isNull(value) { return ([], []) }
        let object = try json.object(value, field)
        let type = try json.string(object["type"], field + ".type")
        switch type {
        case "ByteLevel":
            return ([], [])
        case "Sequence":
            var prefix: [Int] = [], suffix: [Int] = []
            for (index, item) in try json.array(object["processors"], field + ".processors").enumerated() {
                let (p, s) = try parsePostProcessor(item, "\(field).processors[\(index)]")
                prefix = p + prefix
                suffix += s
            }
            return (prefix, suffix)
        case "TemplateProcessing":
            let specials = try json.object(object["special_tokens"], field + ".special_tokens")
            var prefix: [Int] = [], suffix: [Int] = []
            var seenSequence = false
            for (index, item) in try json.array(object["single"], field + ".single").enumerated() {
                let entry = try json.object(item, "\(field).single[\(index)]")
                if let sequence = entry["Sequence"] as? [String: Any] {
                    guard sequence["id"] as? String == "A", !seenSequence else {
                        throw unsupported("\(field).single must hold the sequence $A exactly once")
                    }
                    seenSequence = true
                } else if let special = entry["SpecialToken"] as? [String: Any] {
                    let name = try json.string(special["id"], "\(field).single[\(index)].SpecialToken.id")
                    let token = try json.object(specials[name], "\(field).special_tokens.\(name)")
                    let ids = try json.array(token["ids"], "\(field).special_tokens.\(name).ids").map {
                        try json.int($0, "\(field).special_tokens.\(name).ids")
                    }
                    if seenSequence { suffix += ids } else { prefix += ids }
                } else {
                    throw unsupported("\(field).single[\(index)] is neither SpecialToken nor Sequence")
                }
            }
            guard seenSequence else { throw unsupported("\(field).single has no sequence $A") }
            return (prefix, suffix)
        default:
            throw unsupported("post-processor '\(type)' (\(field))")
        }
    }

    private func checkDecoder(_ value: Any?) throws {
        if json.isNull(value) { throw unsupported("no decoder (byte-level BPE needs the ByteLevel decoder)") }
        let type = try json.string(try json.object(value, "decoder")["type"], "decoder.type")
        guard type == "ByteLevel" else { throw unsupported("decoder '\(type)' (only ByteLevel is supported)") }
    }

    private func unsupported(_ what: String) -> TokenizerError {
        .unsupported(source: source, what: what)
    }
}

// MARK: - tokenizer_config.json

extension HuggingFaceTokenizerFile {
    /// Reads bos/eos/unk/pad and the chat template from tokenizer_config.json into `parts`.
    static func applyConfig(_ data: Data, source: String, to parts: inout TokenizerComponents) throws {
        let json = JSONFields(source: source)
        let config = try json.parseObject(data)
        func tokenID(_ key: String) throws -> Int? {
            let value = config[key]
            if json.isNull(value) { return nil }
            let content: String
            if let string = value as? String {
                content = string
            } else if let object = value as? [String: Any] {
                content = try json.string(object["content"], key + ".content")
            } else {
                throw TokenizerError.invalidField(source: source, field: key, reason: "expected a string or an object with 'content'")
            }
            guard let id = parts.addedTokens.first(where: { $0.content == content })?.id ?? parts.vocab[content] else {
                throw TokenizerError.invalidField(source: source, field: key, reason: "token '\(content)' is not in the vocabulary")
            }
            return id
        }
        parts.specialTokens.bos = try tokenID("bos_token") ?? parts.specialTokens.bos
        parts.specialTokens.eos = try tokenID("eos_token") ?? parts.specialTokens.eos
        parts.specialTokens.unknown = try tokenID("unk_token") ?? parts.specialTokens.unknown
        parts.specialTokens.padding = try tokenID("pad_token") ?? parts.specialTokens.padding

        let template = config["chat_template"]
        if let string = template as? String {
            parts.chatTemplate = string
        } else if let list = template as? [Any] {
            // A list of named templates: take "default", else the first.
            let named = try list.enumerated().map { index, item -> (String, String) in
                let entry = try json.object(item, "chat_template[\(index)]")
                return (try json.string(entry["name"], "chat_template[\(index)].name"),
                        try json.string(entry["template"], "chat_template[\(index)].template"))
            }
            parts.chatTemplate = (named.first { $0.0 == "default" } ?? named.first)?.1
        } else if !json.isNull(template) {
            throw TokenizerError.invalidField(source: source, field: "chat_template", reason: "expected a string or a list of named templates")
        }
    }
}
