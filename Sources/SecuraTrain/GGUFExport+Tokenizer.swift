// The `tokenizer.*` keys of a GGUF export. A GGUF base model already has them (vocabulary, merges, special
// ids, pre-tokenizer name, chat template): they are copied unchanged. A Hugging Face folder's byte-level
// BPE (tokenizer.json + tokenizer_config.json, chat_template.jinja) is written the way
// convert_hf_to_gguf.py's `_set_vocab_gpt2` writes it: tokens by id (ids the tokenizer lacks up to the
// embedding's rows become "[PADn]" of type UNUSED), types NORMAL / CONTROL (special added tokens) /
// USER_DEFINED (other added tokens), merges as "a b", bos/eos/padding ids and add_bos_token from the config.
// The pre-tokenizer name, which the converter finds by hashing a test tokenisation, is taken from the
// architecture here: "qwen2" for Qwen2, "llama-bpe" for Llama 3's 128k vocabulary, else "default".
import Foundation
import SecuraIO
import SecuraModel

extension GGUFExport {
    /// llama.cpp's token types.
    enum TokenType: Int32 { case normal = 1, control = 3, userDefined = 4, unused = 5 }

    /// The tokenizer keys for the model at `modelPath` (a .gguf file or a Hugging Face folder), with
    /// `vocabSize` tokens; empty when the folder has no tokenizer.json.
    /// - Throws: `GGUFExportError` for a tokenizer that is not byte-level BPE (or malformed JSON) or has
    ///   more tokens than the model's embedding rows; I/O errors naming the file.
    public static func tokenizerMetadata(modelPath: String, config: DecoderConfig,
                                         raw: ModelConfig) throws -> [(key: String, value: GGUFValue)] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: modelPath, isDirectory: &isDirectory) else { return [] }
        if !isDirectory.boolValue {
            let file = try GGUFFile(path: modelPath)
            return file.metadataKeys.filter { $0.hasPrefix("tokenizer.") }.map { ($0, file.metadata[$0]!) }
        }
        let folder = URL(fileURLWithPath: modelPath)
        let tokenizerURL = folder.appendingPathComponent("tokenizer.json")
        guard FileManager.default.fileExists(atPath: tokenizerURL.path) else { return [] }
        let tokenizer = try object(tokenizerURL)
        func bad(_ reason: String) -> GGUFExportError { .unsupportedTokenizer(path: tokenizerURL.path, reason: reason) }
        guard case let .object(model)? = tokenizer["model"], case .string("BPE")? = model["type"],
              case let .object(vocab)? = model["vocab"] else {
            throw bad("not a BPE tokenizer (model.type \"BPE\" with a vocab); GGUF export writes byte-level BPE vocabularies only")
        }
        let v = config.vocabSize
        var tokens = [String?](repeating: nil, count: v)
        var types = [TokenType](repeating: .normal, count: v)
        func place(_ token: String, _ id: Int, _ type: TokenType) throws {
            guard id >= 0, id < v else { throw GGUFExportError.tokenBeyondVocabulary(path: tokenizerURL.path, token: token, id: id, rows: v) }
            tokens[id] = token
            types[id] = type
        }
        for token in vocab.keys {
            guard case let .integer(id)? = vocab[token] else { throw bad("vocab entry '\(token)' is not an integer id") }
            try place(token, id, .normal)
        }
        if case let .array(added)? = tokenizer["added_tokens"] {
            for case let .object(entry) in added {
                guard case let .integer(id)? = entry["id"], case let .string(content)? = entry["content"] else { continue }
                let special: Bool
                if case let .bool(s)? = entry["special"] { special = s } else { special = false }
                try place(content, id, special ? .control : .userDefined)
            }
        }
        var merges: [GGUFValue] = []
        if case let .array(list)? = model["merges"] {
            for item in list {
                switch item {
                case let .string(pair): merges.append(.string(pair))
                case let .array(parts) where parts.count == 2:
                    guard case let .string(a) = parts[0], case let .string(b) = parts[1] else { throw bad("a merge is not two strings") }
                    merges.append(.string(a + " " + b))
                default: throw bad("a merge is neither \"a b\" nor [a, b]")
                }
            }
        }
        var index: [String: Int] = [:]
        for (id, token) in tokens.enumerated() { if let token, index[token] == nil { index[token] = id } }

        let pre = config.architecture == .qwen2 ? "qwen2" : config.architecture == .llama && v >= 128_000 ? "llama-bpe" : "default"
        var keys: [(key: String, value: GGUFValue)] = [
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.pre", .string(pre)),
            ("tokenizer.ggml.tokens", .array(elementType: .string, values: tokens.enumerated().map { .string($0.element ?? "[PAD\($0.offset)]") })),
            ("tokenizer.ggml.token_type", .array(elementType: .int32, values: zip(tokens, types).map { .int32($0 == nil ? TokenType.unused.rawValue : $1.rawValue) })),
            ("tokenizer.ggml.merges", .array(elementType: .string, values: merges)),
        ]
        let configURL = folder.appendingPathComponent("tokenizer_config.json")
        let settings = FileManager.default.fileExists(atPath: configURL.path) ? try object(configURL) : nil
        func specialID(_ key: String, fallback: Int?) -> Int? {
            switch settings?[key] {
            case let .string(text)?: return index[text] ?? fallback
            case let .object(entry)?: if case let .string(text)? = entry["content"] { return index[text] ?? fallback }
            default: break
            }
            return fallback
        }
        let ids = [("bos", specialID("bos_token", fallback: raw.bos_token_id?.ids.first)),
                   ("eos", specialID("eos_token", fallback: raw.eos_token_id?.ids.first)),
                   ("padding", specialID("pad_token", fallback: nil))]
        for case let (name, id?) in ids {
            // Ids found in tokenizer_config.json are indices of `tokens`; the fallbacks come from config.json.
            guard id >= 0, id < v else {
                throw GGUFExportError.tokenBeyondVocabulary(path: folder.appendingPathComponent("config.json").path,
                                                            token: "\(name)_token_id", id: id, rows: v)
            }
            keys.append(("tokenizer.ggml.\(name)_token_id", .uint32(UInt32(id))))
        }
        if case let .bool(addBOS)? = settings?["add_bos_token"] { keys.append(("tokenizer.ggml.add_bos_token", .bool(addBOS))) }
        let jinja = folder.appendingPathComponent("chat_template.jinja")
        if let template = try? String(contentsOf: jinja, encoding: .utf8) {
            keys.append(("tokenizer.chat_template", .string(template)))
        } else if case let .string(template)? = settings?["chat_template"] {
            keys.append(("tokenizer.chat_template", .string(template)))
        }
        return keys
    }

    /// The top-level object of the JSON file at `url`.
    private static func object(_ url: URL) throws -> JSONObject {
        let data = try Data(contentsOf: url)
        let value: JSONValue
        do {
            value = try data.withUnsafeBytes { try JSONParser.parse($0) }
        } catch let error as JSONParseError {
            throw GGUFExportError.unsupportedTokenizer(path: url.path, reason: "invalid JSON at \(error)")
        }
        guard case let .object(object) = value else { throw GGUFExportError.unsupportedTokenizer(path: url.path, reason: "not a JSON object") }
        return object
    }
}
