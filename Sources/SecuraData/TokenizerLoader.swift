// The tokenizer of a model path: tokenizer.json (+ tokenizer_config.json) in a Hugging Face folder, or
// the vocabulary, merges and chat template inside a GGUF file.
import Foundation
import SecuraIO
import SecuraTokenizer

public enum TokenizerLoader {
    /// The tokenizer that belongs to the model at `path`.
    public static func load(_ path: String) throws -> Tokenizer {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            return try Tokenizer(directory: path)
        }
        let file = try GGUFFile(path: path)
        return try Tokenizer(gguf: ggufData(file), source: path)
    }

    /// The `tokenizer.ggml.*` metadata of a GGUF file.
    public static func ggufData(_ file: GGUFFile) throws -> GGUFTokenizerData {
        guard let tokens = try file.stringArray("tokenizer.ggml.tokens") else {
            throw GGUFError.invalidValue(path: file.path, key: "tokenizer.ggml.tokens", offset: 0,
                                         reason: "missing: this GGUF file carries no tokenizer")
        }
        return GGUFTokenizerData(
            model: try file.string("tokenizer.ggml.model") ?? "gpt2",
            pre: try file.string("tokenizer.ggml.pre") ?? "default",
            tokens: tokens,
            merges: try file.stringArray("tokenizer.ggml.merges") ?? [],
            tokenTypes: try file.intArray("tokenizer.ggml.token_type") ?? [],
            bosID: try file.int("tokenizer.ggml.bos_token_id"),
            eosID: try file.int("tokenizer.ggml.eos_token_id"),
            unknownID: try file.int("tokenizer.ggml.unknown_token_id"),
            paddingID: try file.int("tokenizer.ggml.padding_token_id"),
            addBOS: try file.bool("tokenizer.ggml.add_bos_token") ?? false,
            addEOS: try file.bool("tokenizer.ggml.add_eos_token") ?? false,
            chatTemplate: try file.string("tokenizer.chat_template"))
    }
}
