// Sizes from config.json and GGUF metadata are checked before anything is sized by them: against the
// ceilings of DecoderConfig.sizeLimits and, for the layer count, against the layers the weights hold.
// Each case is a broken copy of a committed fixture; before these checks, a huge layer count made
// inspect reserve one entry per layer and abort with "failed to allocate".
import Foundation
import XCTest
import TestSupport
@testable import SecuraModel

final class ConfigBoundsTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("bounds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// A copy of tiny-llama whose config.json has `replacement` for `original`.
    private func llamaFolder(replacing original: String, with replacement: String) throws -> String {
        let source = FixturePaths.fixture("tiny-llama")
        let copy = folder.appendingPathComponent("tiny-llama")
        try FileManager.default.copyItem(at: source, to: copy)
        let url = copy.appendingPathComponent("config.json")
        let text = try String(contentsOf: url, encoding: .utf8)
        XCTAssert(text.contains(original), "the fixture changed: no \(original)")
        try text.replacingOccurrences(of: original, with: replacement).write(to: url, atomically: true, encoding: .utf8)
        return copy.path
    }

    /// A copy of tiny-llama-f32.gguf whose uint32 `llama.block_count` is `value`.
    private func llamaGGUF(blockCount value: UInt32) throws -> String {
        var bytes = [UInt8](try Data(contentsOf: FixturePaths.fixture("gguf/tiny-llama-f32.gguf")))
        let key = Array("llama.block_count".utf8)
        guard let at = (0...(bytes.count - key.count)).first(where: { Array(bytes[$0..<($0 + key.count)]) == key }) else {
            XCTFail("no llama.block_count in the fixture"); return ""
        }
        XCTAssertEqual(Array(bytes[(at + key.count)..<(at + key.count + 4)]), [4, 0, 0, 0], "block_count is not a uint32")
        withUnsafeBytes(of: value.littleEndian) { for (i, b) in $0.enumerated() { bytes[at + key.count + 4 + i] = b } }
        let url = folder.appendingPathComponent("broken.gguf")
        try Data(bytes).write(to: url)
        return url.path
    }

    func testHugeLayerCountInConfigJSONIsRefusedNamingKeyAndFile() throws {
        let path = try llamaFolder(replacing: "\"num_hidden_layers\": 2", with: "\"num_hidden_layers\": 100000000000")
        XCTAssertThrowsError(try ModelLoader.open(path)) { error in
            guard case let ModelError.configValueOutOfRange(file, key, value, _) = error else {
                return XCTFail("\(error)")
            }
            XCTAssertEqual(key, "num_hidden_layers")
            XCTAssertEqual(value, 100_000_000_000)
            XCTAssert(file.hasSuffix("config.json"), file)
        }
    }

    func testMoreLayersThanTheWeightsHoldIsRefused() throws {
        let path = try llamaFolder(replacing: "\"num_hidden_layers\": 2", with: "\"num_hidden_layers\": 3")
        XCTAssertThrowsError(try ModelLoader.open(path)) { error in
            guard case let ModelError.layerCountMismatch(file, key, declared, found) = error else { return XCTFail("\(error)") }
            XCTAssertEqual([declared, found], [3, 2])
            XCTAssertEqual(key, "num_hidden_layers")
            XCTAssert(file.hasSuffix("config.json"), file)
            XCTAssert("\(error)".contains("declares 3 layers but the weights hold 2"), "\(error)")
        }
    }

    func testOtherHugeSizesAreRefusedBeforeUse() throws {
        for (original, key) in [("\"hidden_size\": 64", "hidden_size"), ("\"vocab_size\": 256", "vocab_size"),
                                ("\"max_position_embeddings\": 128", "max_position_embeddings")] {
            try? FileManager.default.removeItem(at: folder.appendingPathComponent("tiny-llama"))
            let path = try llamaFolder(replacing: original, with: "\"\(key)\": 9223372036854775807")
            XCTAssertThrowsError(try ModelLoader.open(path), key) { error in
                guard case let ModelError.configValueOutOfRange(_, found, _, _) = error else { return XCTFail("\(error)") }
                XCTAssertEqual(found, key)
            }
        }
    }

    func testHugeBlockCountInGGUFIsRefusedNamingTheGGUFKey() throws {
        let path = try llamaGGUF(blockCount: .max)
        XCTAssertThrowsError(try ModelLoader.open(path)) { error in
            guard case let ModelError.configValueOutOfRange(file, key, value, limit) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(key, "llama.block_count")
            XCTAssertEqual(file, path)
            XCTAssertEqual(value, Int(UInt32.max))
            XCTAssertEqual(limit, DecoderConfig.sizeLimits["num_hidden_layers"])
        }
    }

    func testGGUFBlockCountAboveTheWeightsIsRefused() throws {
        let path = try llamaGGUF(blockCount: 3)
        XCTAssertThrowsError(try ModelLoader.open(path)) { error in
            guard case let ModelError.layerCountMismatch(_, key, declared, found) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(key, "llama.block_count")
            XCTAssertEqual([declared, found], [3, 2])
        }
    }

    func testTheUnbrokenFixturesStillLoad() throws {
        XCTAssertEqual(try ModelLoader.open(FixturePaths.fixture("tiny-llama").path).config.layers, 2)
        XCTAssertEqual(try ModelLoader.open(FixturePaths.fixture("gguf/tiny-llama-f32.gguf").path).config.layers, 2)
    }

    func testWeightsBindingChecksTheLastLayerBeforeReserving() throws {
        let model = try ModelLoader.open(FixturePaths.fixture("tiny-llama").path)
        var config = model.config
        config.layers = 1 << 40
        XCTAssertThrowsError(try DecoderWeights(config: config, source: model.source)) { error in
            guard case let ModelError.missingTensor(name, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(name, ParameterName.layer((1 << 40) - 1, "input_layernorm.weight"))
        }
    }
}
