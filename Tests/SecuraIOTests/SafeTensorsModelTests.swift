// Opening Hugging Face model folders: single file, sharded with an index, and every way a folder's
// weights can be missing or inconsistent.

import Foundation
import SecuraIO
import SecuraTensor
import TestSupport
import XCTest

final class SafeTensorsModelTests: XCTestCase {
    private var dir: TempDirectory!

    override func setUpWithError() throws {
        dir = try TempDirectory()
    }

    override func tearDown() {
        dir = nil
    }

    /// Writes a shard holding `tensors` (name → values, stored as bf16 with shape [count]).
    private func writeShard(_ path: String, _ tensors: [String: [Float]]) throws {
        var writer = SafeTensorsWriter(path: path)
        for (name, values) in tensors { try writer.add(name, floats: values, shape: [values.count], as: .bf16) }
        try writer.write()
    }

    private func indexJSON(_ map: [String: String]) -> String {
        let members = map.keys.sorted().map { "\"\($0)\": \"\(map[$0]!)\"" }
        return "{\"metadata\": {\"total_size\": 0}, \"weight_map\": {" + members.joined(separator: ", ") + "}}"
    }

    /// A two-shard folder: embed + layer 0 in shard 1, layer 1 + head in shard 2.
    private func makeShardedFolder() throws -> String {
        let folder = try dir.makeFolder("sharded")
        try writeShard(folder + "/model-00001-of-00002.safetensors", ["embed": [1, 2], "layer0": [3]])
        try writeShard(folder + "/model-00002-of-00002.safetensors", ["layer1": [4, 5, 6], "head": [7]])
        try dir.write(indexJSON(["embed": "model-00001-of-00002.safetensors",
                                 "layer0": "model-00001-of-00002.safetensors",
                                 "layer1": "model-00002-of-00002.safetensors",
                                 "head": "model-00002-of-00002.safetensors"]),
                      to: "sharded/model.safetensors.index.json")
        return folder
    }

    func testSingleFileFolder() throws {
        let folder = try dir.makeFolder("single")
        var writer = SafeTensorsWriter(path: folder + "/model.safetensors")
        try writer.add("a", floats: [1, 2, 3, 4], shape: [2, 2])
        try writer.add("b", floats: [5, 6], shape: [2], as: .f16)
        try writer.write()

        let model = try SafeTensorsModel(path: folder)
        XCTAssertNil(model.indexPath)
        XCTAssertEqual(model.names, ["a", "b"])
        XCTAssertTrue(model.contains("a"))
        XCTAssertFalse(model.contains("c"))
        XCTAssertEqual(try model.floats("a"), [1, 2, 3, 4])
        XCTAssertEqual(model.parameterCount, 6)
        XCTAssertEqual(model.byteCount, 16 + 4)
        XCTAssertEqual(model.countsByDType["F16"], TensorCounts(tensors: 1, parameters: 2, bytes: 4))

        // The file itself can be opened as a model too.
        XCTAssertEqual(try SafeTensorsModel(path: folder + "/model.safetensors").names, ["a", "b"])
    }

    func testShardedFolder() throws {
        let folder = try makeShardedFolder()
        let model = try SafeTensorsModel(path: folder)
        XCTAssertEqual(model.indexPath, folder + "/model.safetensors.index.json")
        XCTAssertEqual(model.files.count, 2)
        XCTAssertEqual(model.names, ["embed", "head", "layer0", "layer1"])
        XCTAssertEqual(try model.floats("embed"), [1, 2])
        XCTAssertEqual(try model.floats("layer1"), [4, 5, 6])
        XCTAssertEqual(try model.view("head").dtype, .bf16)
        XCTAssertEqual(model.counts, TensorCounts(tensors: 4, parameters: 7, bytes: 14))
        XCTAssertEqual(model.countsByDType, ["BF16": TensorCounts(tensors: 4, parameters: 7, bytes: 14)])
        XCTAssertEqual(model.entry("layer1")?.shape, [3])
        assertIOError(try model.view("missing"), mentions: [folder, "'missing'"]) {
            if case .tensorNotFound(_, "missing") = $0 { true } else { false }
        }
    }

    func testMissingFolder() {
        let folder = dir.path("no-such-model")
        assertIOError(try SafeTensorsModel(path: folder), mentions: [folder, "not found"]) {
            if case .folderNotFound = $0 { true } else { false }
        }
    }

    func testFolderWithoutWeights() throws {
        let folder = try dir.makeFolder("empty-model")
        try dir.write("{}", to: "empty-model/config.json")
        assertIOError(try SafeTensorsModel(path: folder),
                      mentions: [folder, "model.safetensors", "model.safetensors.index.json"]) {
            if case .noModelWeights = $0 { true } else { false }
        }
    }

    func testIndexNamingMissingShard() throws {
        let folder = try makeShardedFolder()
        try FileManager.default.removeItem(atPath: folder + "/model-00002-of-00002.safetensors")
        assertIOError(try SafeTensorsModel(path: folder),
                      mentions: [folder + "/model.safetensors.index.json", "model-00002-of-00002.safetensors",
                                 "'head'", "does not exist"]) {
            if case .missingShard(_, "model-00002-of-00002.safetensors", "head") = $0 { true } else { false }
        }
    }

    func testIndexNamingTensorTheShardLacks() throws {
        let folder = try makeShardedFolder()
        try writeShard(folder + "/model-00002-of-00002.safetensors", ["layer1": [4, 5, 6]])
        assertIOError(try SafeTensorsModel(path: folder),
                      mentions: [folder + "/model.safetensors.index.json", "'head'", "model-00002-of-00002"]) {
            if case .tensorNotInShard(_, "model-00002-of-00002.safetensors", "head") = $0 { true } else { false }
        }
    }

    func testBrokenShardNamesTheShardFile() throws {
        let folder = try makeShardedFolder()
        let shard = folder + "/model-00001-of-00002.safetensors"
        try dir.write([1, 2, 3], to: "sharded/model-00001-of-00002.safetensors")
        assertIOError(try SafeTensorsModel(path: folder), mentions: [shard]) {
            if case .fileTooShort = $0 { true } else { false }
        }
    }

    func testInvalidIndexJSON() throws {
        let folder = try dir.makeFolder("bad-index")
        let index = try dir.write("{\"weight_map\": {\"a\": ", to: "bad-index/model.safetensors.index.json")
        assertIOError(try SafeTensorsModel(path: folder), mentions: [index, "JSON"]) {
            if case .invalidIndex = $0 { true } else { false }
        }
    }

    func testIndexWithoutWeightMap() throws {
        let folder = try dir.makeFolder("no-map")
        let index = try dir.write("{\"metadata\": {}}", to: "no-map/model.safetensors.index.json")
        assertIOError(try SafeTensorsModel(path: folder), mentions: [index, "weight_map"]) {
            if case .invalidIndex = $0 { true } else { false }
        }
    }

    func testIndexShardOutsideFolder() throws {
        let folder = try dir.makeFolder("escape")
        let index = try dir.write(indexJSON(["a": "../other/model.safetensors"]),
                                  to: "escape/model.safetensors.index.json")
        assertIOError(try SafeTensorsModel(path: folder), mentions: [index, "'a'", "../other"]) {
            if case .invalidIndex = $0 { true } else { false }
        }
    }
}
