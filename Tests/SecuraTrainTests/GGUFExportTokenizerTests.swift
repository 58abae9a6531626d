// The tokenizer keys of a GGUF export: copied from a GGUF base, built from a Hugging Face folder's
// tokenizer.json / tokenizer_config.json / chat_template.jinja as llama.cpp's converter builds a gpt2
// vocabulary, absent for a folder without a tokenizer, and refused when they cannot describe the model.
import Foundation
import XCTest
import SecuraIO
import SecuraModel
import TestSupport
@testable import SecuraTrain

final class GGUFExportTokenizerTests: XCTestCase {
    func testKeysOfAGGUFBaseAreCopied() throws {
        let path = FixturePaths.fixture("gguf/tiny-llama-f32.gguf").path
        let loaded = try ModelLoader.open(path)
        let keys = try GGUFExport.tokenizerMetadata(modelPath: path, config: loaded.config, raw: loaded.raw)
        let file = try GGUFFile(path: path)
        let expected = file.metadataKeys.filter { $0.hasPrefix("tokenizer.") }
        XCTAssertGreaterThanOrEqual(expected.count, 4)
        XCTAssertEqual(keys.map(\.key), expected)
        for (key, value) in keys { XCTAssertEqual(value, file.value(key), key) }
    }

    func testAFolderWithoutATokenizerHasNoKeys() throws {
        let path = FixturePaths.fixture("tiny-llama").path
        let loaded = try ModelLoader.open(path)
        XCTAssertTrue(try GGUFExport.tokenizerMetadata(modelPath: path, config: loaded.config, raw: loaded.raw).isEmpty)
    }

    /// A folder with tiny-llama's config and a small byte-level BPE tokenizer.
    func folder(tokenizer: String, config tokenizerConfig: String?, template: String? = nil) throws -> (TempDirectory, LoadedModel) {
        let dir = try TempDirectory()
        let fixture = FixturePaths.fixture("tiny-llama")
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(atPath: fixture.appendingPathComponent(name).path, toPath: dir.path(name))
        }
        try dir.write(tokenizer, to: "tokenizer.json")
        if let tokenizerConfig { try dir.write(tokenizerConfig, to: "tokenizer_config.json") }
        if let template { try dir.write(template, to: "chat_template.jinja") }
        return (dir, try ModelLoader.open(dir.path))
    }

    static let tokenizer = """
        {"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2, "Ġ": 3, "Ġab": 4},
                   "merges": ["a b", ["Ġ", "ab"]]},
         "added_tokens": [{"id": 5, "content": "<s>", "special": true}, {"id": 6, "content": "</s>", "special": true},
                          {"id": 7, "content": "<tool>", "special": false}]}
        """

    func testAFolderTokenizerIsWrittenAsTheConverterWritesIt() throws {
        let settings = #"{"bos_token": "<s>", "eos_token": {"content": "</s>"}, "add_bos_token": true, "chat_template": "ignored"}"#
        let (dir, loaded) = try folder(tokenizer: Self.tokenizer, config: settings, template: "{{ messages }}")
        let keys = try GGUFExport.tokenizerMetadata(modelPath: dir.path, config: loaded.config, raw: loaded.raw)
        let values = Dictionary(uniqueKeysWithValues: keys.map { ($0.key, $0.value) })
        XCTAssertEqual(keys.first?.key, "tokenizer.ggml.model")
        XCTAssertEqual(values["tokenizer.ggml.model"], .string("gpt2"))
        XCTAssertEqual(values["tokenizer.ggml.pre"], .string("default"), "a 256-token Llama is not Llama 3")
        let tokens = try XCTUnwrap(values["tokenizer.ggml.tokens"]?.arrayValues?.map { $0.stringValue! })
        XCTAssertEqual(tokens.count, loaded.config.vocabSize, "one token per embedding row")
        XCTAssertEqual(Array(tokens.prefix(9)), ["a", "b", "ab", "Ġ", "Ġab", "<s>", "</s>", "<tool>", "[PAD8]"])
        let types = try XCTUnwrap(values["tokenizer.ggml.token_type"]?.arrayValues?.map { $0.intValue! })
        XCTAssertEqual(Array(types.prefix(9)), [1, 1, 1, 1, 1, 3, 3, 4, 5])
        XCTAssertEqual(types.last, 5)
        XCTAssertEqual(values["tokenizer.ggml.merges"], .array(elementType: .string, values: [.string("a b"), .string("Ġ ab")]))
        XCTAssertEqual(values["tokenizer.ggml.bos_token_id"], .uint32(5))
        XCTAssertEqual(values["tokenizer.ggml.eos_token_id"], .uint32(6))
        XCTAssertNil(values["tokenizer.ggml.padding_token_id"])
        XCTAssertEqual(values["tokenizer.ggml.add_bos_token"], .bool(true))
        XCTAssertEqual(values["tokenizer.chat_template"], .string("{{ messages }}"), "chat_template.jinja wins")

        // Written into an export, the keys read back unchanged.
        let (_, trainer) = try GGUFExportTests.trainedLoRA("tiny-llama", steps: 1)
        let out = dir.path("out.gguf")
        try GGUFExport.write(trainer.adapters, base: loaded.source, config: loaded.config, raw: loaded.raw,
                             tensorNames: loaded.tensors.map(\.name), tokenizer: keys, name: "t", to: out, precision: .f16)
        let file = try GGUFFile(path: out)
        for (key, value) in keys { XCTAssertEqual(file.value(key), value, key) }
        XCTAssertNoThrow(try ModelLoader.open(out))
    }

    func testRefusals() throws {
        let unigram = #"{"model": {"type": "Unigram", "vocab": [["a", 0.0]]}}"#
        let (dir, loaded) = try folder(tokenizer: unigram, config: nil)
        XCTAssertThrowsError(try GGUFExport.tokenizerMetadata(modelPath: dir.path, config: loaded.config, raw: loaded.raw)) {
            XCTAssertTrue("\($0)".contains("not a BPE tokenizer"), "\($0)")
        }
        let tooLarge = #"{"model": {"type": "BPE", "vocab": {"a": 0, "z": 300}, "merges": []}}"#
        let (dir2, loaded2) = try folder(tokenizer: tooLarge, config: nil)
        XCTAssertThrowsError(try GGUFExport.tokenizerMetadata(modelPath: dir2.path, config: loaded2.config, raw: loaded2.raw)) {
            XCTAssertTrue("\($0)".contains("outside the model's 256 embedding rows"), "\($0)")
        }
        // config.json's eos id (no eos_token in tokenizer_config.json) outside the vocabulary: named with
        // its file and key, not written (a negative one trapped converting to UInt32).
        for id in [-1, 300] {
            let (dir3, loaded3) = try folder(tokenizer: Self.tokenizer, config: nil)
            var raw = loaded3.raw
            raw.eos_token_id = TokenIDs([id])
            XCTAssertThrowsError(try GGUFExport.tokenizerMetadata(modelPath: dir3.path, config: loaded3.config, raw: raw)) {
                XCTAssertEqual("\($0)", "\(dir3.path("config.json")): token 'eos_token_id' has id \(id), outside the model's 256 embedding rows (0..<256)")
            }
        }
    }
}
