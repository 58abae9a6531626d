// config.json decoding: transformers 4.x and 5.x spellings, defaults, and clear errors.
import Foundation
import XCTest
import TestSupport
@testable import SecuraModel

final class ModelConfigTests: XCTestCase {
    func decode(_ json: String) throws -> DecoderConfig {
        try DecoderConfig(try JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8)), path: "config.json")
    }

    /// The tiny-llama fixture's config as transformers 4.x writes it (rope_theta + rope_scaling at top level).
    let llama4x = """
        {"model_type": "llama", "hidden_size": 64, "intermediate_size": 176, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 24, "vocab_size": 256,
         "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "tie_word_embeddings": false,
         "max_position_embeddings": 128, "hidden_act": "silu", "torch_dtype": "float32",
         "rope_scaling": {"factor": 8.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                          "original_max_position_embeddings": 64, "rope_type": "llama3"},
         "eos_token_id": [128001, 128008], "bos_token_id": 128000}
        """

    func testTransformers4xAnd5xSpellingsAgree() throws {
        let old = try decode(llama4x)
        let url = FixturePaths.fixture("tiny-llama/config.json")
        let new = try DecoderConfig(try ModelConfig.load(from: url), path: url.path)
        XCTAssertEqual(old, new)
        XCTAssertEqual(new.ropeScaling, .llama3(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 64))
        XCTAssertEqual(new.headDim, 24)
    }

    func testQwen2DefaultsAndBiases() throws {
        let url = FixturePaths.fixture("tiny-qwen2/config.json")
        let c = try DecoderConfig(try ModelConfig.load(from: url), path: url.path)
        XCTAssertEqual(c.architecture, .qwen2)
        XCTAssertEqual(c.headDim, 16)
        XCTAssertTrue(c.qkvBias)
        XCTAssertFalse(c.outputBias)
        XCTAssertTrue(c.tieWordEmbeddings)
        XCTAssertEqual(c.ropeTheta, 1_000_000)
    }

    func testOldTypeKeyAndLinearScaling() throws {
        let c = try decode(llama4x.replacingOccurrences(of: "\"rope_type\": \"llama3\"", with: "\"type\": \"linear\""))
        XCTAssertEqual(c.ropeScaling, .linear(factor: 8))
    }

    func testUnknownModelTypeIsNamed() {
        XCTAssertThrowsError(try decode(llama4x.replacingOccurrences(of: "\"llama\"", with: "\"mamba\""))) { error in
            let text = "\(error)"
            XCTAssert(text.contains("mamba") && text.contains("config.json") && text.contains("llama, qwen2"), text)
        }
    }

    func testBadValuesAreNamed() {
        let cases: [(String, String)] = [
            (llama4x.replacingOccurrences(of: "\"num_key_value_heads\": 2", with: "\"num_key_value_heads\": 3"), "num_key_value_heads"),
            (llama4x.replacingOccurrences(of: "\"hidden_size\": 64,", with: ""), "hidden_size"),
            (llama4x.replacingOccurrences(of: "\"rope_type\": \"llama3\"", with: "\"rope_type\": \"yarn\""), "yarn"),
            (llama4x.replacingOccurrences(of: "\"silu\"", with: "\"gelu\""), "gelu"),
            (llama4x.replacingOccurrences(of: "\"vocab_size\": 256", with: "\"vocab_size\": \"many\""), "vocab_size"),
        ]
        for (json, needle) in cases {
            XCTAssertThrowsError(try decode(json)) { XCTAssert("\($0)".contains(needle), "\($0)") }
        }
    }

    /// Foundation's decoder says "not valid JSON" with no position for a valid 2^64−1 and for syntax errors.
    func testJSONProblemsArePlaced() {
        let big = llama4x.replacingOccurrences(of: "\"num_hidden_layers\": 2", with: "\"num_hidden_layers\": 18446744073709551615")
        XCTAssertThrowsError(try ModelConfig.decode(Data(big.utf8), path: "m/config.json")) { error in
            let text = "\(error)"
            XCTAssert(text.contains("m/config.json") && text.contains("line 1, column 91") && text.contains("key 'num_hidden_layers'")
                      && text.contains("18446744073709551615 is out of range"), text)
        }
        // Foundation refuses a fraction for a whole-number key with no coding path; the key is found.
        let fraction = llama4x.replacingOccurrences(of: "\"num_attention_heads\": 4", with: "\"num_attention_heads\": 3.5")
        XCTAssertThrowsError(try ModelConfig.decode(Data(fraction.utf8), path: "m/config.json")) { error in
            let text = "\(error)"
            XCTAssert(text.contains("m/config.json") && text.contains("key 'num_attention_heads': 3.5 is not a whole number"), text)
        }
        let nested = llama4x.replacingOccurrences(of: "\"bos_token_id\": 128000", with: "\"bos_token_id\": [128000.5]")
        XCTAssertThrowsError(try ModelConfig.decode(Data(nested.utf8), path: "m/config.json")) { error in
            XCTAssert("\(error)".contains("key 'bos_token_id[0]': 128000.5"), "\(error)")
        }
        let broken = llama4x.replacingOccurrences(of: "\"head_dim\": 24,", with: "\"head_dim\": 24,,")
        XCTAssertThrowsError(try ModelConfig.decode(Data(broken.utf8), path: "m/config.json")) { error in
            let text = "\(error)"
            XCTAssert(text.contains("m/config.json") && text.contains("line 2, column") && text.contains("unexpected ','"), text)
        }
    }

    func testUnreadableConfigFileIsNamed() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("config.json")
        try Data("{ not json".utf8).write(to: url)
        XCTAssertThrowsError(try ModelConfig.load(from: url)) { XCTAssert("\($0)".contains(url.path), "\($0)") }
        XCTAssertThrowsError(try ModelConfig.load(from: dir.appendingPathComponent("missing.json"))) {
            XCTAssert("\($0)".contains("missing.json"), "\($0)")
        }
    }
}
