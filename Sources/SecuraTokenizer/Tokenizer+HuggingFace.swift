// Loading a Hugging Face tokenizer folder: tokenizer.json (model, added tokens, normalizer,
// pre-tokenizer, post-processor, decoder), tokenizer_config.json (bos/eos/unk/pad, chat template) and
// chat_template.jinja (where transformers 5 saves the template). Only the configurations of byte-level
// BPE families are accepted; anything else is refused with a message naming the file and the feature.

import Foundation

extension Tokenizer {
    /// Loads `folder/tokenizer.json`, plus `tokenizer_config.json` and `chat_template.jinja` if present.
    ///
    /// - Throws: `TokenizerError` naming the file when a file is missing, malformed or unsupported.
    public convenience init(directory folder: String) throws {
        let base = folder.hasSuffix("/") ? folder : folder + "/"
        let exists = { (name: String) in FileManager.default.fileExists(atPath: base + name) }
        try self.init(tokenizerJSON: base + "tokenizer.json",
                      tokenizerConfig: exists("tokenizer_config.json") ? base + "tokenizer_config.json" : nil,
                      chatTemplateFile: exists("chat_template.jinja") ? base + "chat_template.jinja" : nil)
    }

    /// Loads a tokenizer.json, optionally with a tokenizer_config.json and a chat_template.jinja (the
    /// latter wins over the config's `chat_template`).
    public convenience init(tokenizerJSON path: String, tokenizerConfig configPath: String? = nil,
                            chatTemplateFile templatePath: String? = nil) throws {
        let data = try Self.read(path)
        let config = try configPath.map { try Self.read($0) }
        var template: String?
        if let templatePath {
            template = String(decoding: try Self.read(templatePath), as: UTF8.self)
        }
        try self.init(tokenizerJSONData: data, source: path, configData: config,
                      configSource: configPath ?? "tokenizer_config.json", chatTemplate: template)
    }

    /// Builds a tokenizer from the bytes of a tokenizer.json (and optionally tokenizer_config.json).
    /// `source` names the data in error messages.
    public convenience init(tokenizerJSONData data: Data, source: String, configData: Data? = nil,
                            configSource: String = "tokenizer_config.json", chatTemplate: String? = nil) throws {
        var parts = try HuggingFaceTokenizerFile(source: source).parse(data)
        if let configData {
            try HuggingFaceTokenizerFile.applyConfig(configData, source: configSource, to: &parts)
        }
        if let chatTemplate { parts.chatTemplate = chatTemplate }
        if parts.specialTokens.bos == nil, parts.prefixIDs.count == 1 { parts.specialTokens.bos = parts.prefixIDs[0] }
        try self.init(parts)
    }

    private static func read(_ path: String) throws -> Data {
        guard FileManager.default.fileExists(atPath: path) else {
            throw TokenizerError.cannotRead(source: path, reason: "no such file")
        }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw TokenizerError.cannotRead(source: path, reason: Self.readFailure(path, error))
        }
    }

    /// Why `path` could not be read, in words (Foundation's own message is "The operation could not be
    /// completed").
    static func readFailure(_ path: String, _ error: Error) -> String {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
            return "it is a folder, not a file"
        }
        if !FileManager.default.isReadableFile(atPath: path) { return "permission denied" }
        let ns = error as NSError
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return (ns.userInfo[NSDebugDescriptionErrorKey] as? String) ?? "\(error)"
    }
}
