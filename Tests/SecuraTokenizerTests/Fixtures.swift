// Locating and reading the tokenizer fixtures made by Tests/Fixtures/tokenizers/make_golden.py: the
// real tokenizer files, the golden ids/decodes from Hugging Face tokenizers, and the chat renderings
// from transformers. Loaded tokenizers are cached, since the Llama 3 and Qwen vocabularies are large.

import Foundation
import SecuraTokenizer
import XCTest

enum Fixtures {
    /// …/Tests/Fixtures/tokenizers, found from this file's path.
    static let directory: String = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tokenizers").path

    static func path(_ name: String) -> String { directory + "/" + name }

    static func data(_ name: String) throws -> Data {
        try Data(contentsOf: URL(fileURLWithPath: path(name)))
    }

    /// One golden string with Hugging Face tokenizers' results.
    struct GoldenEntry: Decodable {
        let text: String
        let ids: [Int]
        let idsNoSpecial: [Int]
        let decoded: String
        let decodedSkipSpecial: String
        let halfDecoded: String

        enum CodingKeys: String, CodingKey {
            case text, ids, decoded
            case idsNoSpecial = "ids_no_special"
            case decodedSkipSpecial = "decoded_skip_special"
            case halfDecoded = "half_decoded"
        }
    }

    struct InvalidUTF8Entry: Decodable {
        let hex: String
        let replaced: String
        let ids: [Int]

        var bytes: [UInt8] {
            var out: [UInt8] = []
            var index = hex.startIndex
            while index < hex.endIndex {
                let next = hex.index(index, offsetBy: 2)
                out.append(UInt8(hex[index..<next], radix: 16)!)
                index = next
            }
            return out
        }
    }

    struct SingleID: Decodable {
        let id: Int
        let decoded: String
    }

    struct Golden: Decodable {
        let tokenizer: String
        let entries: [GoldenEntry]
        let invalidUTF8: [InvalidUTF8Entry]
        let singleIDs: [SingleID]

        enum CodingKeys: String, CodingKey {
            case tokenizer, entries
            case invalidUTF8 = "invalid_utf8"
            case singleIDs = "single_ids"
        }
    }

    static func golden(_ name: String) throws -> Golden {
        try JSONDecoder().decode(Golden.self, from: data("golden_\(name).json"))
    }

    private static let lock = NSLock()
    private static var loaded: [String: Tokenizer] = [:]

    /// The tokenizer in fixture folder `name` (tokenizer.json + config), loaded once per test run.
    /// Tests skip (rather than fail) when a third-party tokenizer folder was left out of the checkout;
    /// make_golden.py fetches them.
    static func tokenizer(_ name: String) throws -> Tokenizer {
        lock.lock()
        defer { lock.unlock() }
        if let tokenizer = loaded[name] { return tokenizer }
        if !FileManager.default.fileExists(atPath: path(name + "/tokenizer.json")) {
            throw XCTSkip("fixture \(name)/tokenizer.json is absent (Tests/Fixtures/tokenizers/make_golden.py makes it)")
        }
        let tokenizer = try Tokenizer(directory: path(name))
        loaded[name] = tokenizer
        return tokenizer
    }

    /// The GGUF arrays of SmolLM2-135M-Instruct, as the GGUF file stores them.
    static func smolLM2GGUFData() throws -> GGUFTokenizerData {
        let object = try JSONSerialization.jsonObject(with: data("smollm2/gguf_vocab.json")) as! [String: Any]
        return GGUFTokenizerData(
            model: object["model"] as! String, pre: object["pre"] as! String,
            tokens: object["tokens"] as! [String], merges: object["merges"] as! [String],
            tokenTypes: object["token_types"] as! [Int],
            bosID: object["bos_token_id"] as? Int, eosID: object["eos_token_id"] as? Int,
            unknownID: object["unknown_token_id"] as? Int, paddingID: object["padding_token_id"] as? Int,
            addBOS: object["add_bos_token"] as! Bool, chatTemplate: object["chat_template"] as? String)
    }
}
