// The inputs in Fuzz/regressions/config/ (each once crashed the fuzz-config target) must now be clean
// ModelErrors naming the file and the offending key.
import Foundation
import SecuraModel
import TestSupport
import XCTest

final class FuzzRegressionTests: XCTestCase {
    let folder = FixturePaths.repositoryRoot.appendingPathComponent("Fuzz/regressions/config")

    /// Decodes and resolves `name` as fuzz-config does; returns the error it throws.
    func rejection(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> Error? {
        let data = try Data(contentsOf: folder.appendingPathComponent(name))
        do {
            _ = try DecoderConfig(ModelConfig.decode(data, path: name), path: name)
            XCTFail("\(name) was accepted", file: file, line: line)
            return nil
        } catch {
            XCTAssertTrue(error is ModelError, "\(name): not a ModelError: \(error)", file: file, line: line)
            XCTAssertTrue("\(error)".contains(name), "message does not name the file: \(error)", file: file, line: line)
            return error
        }
    }

    /// Gemma2 without `layer_types` builds a per-layer table from num_hidden_layers (2^40 here): it used
    /// to abort allocating 1 TB.
    func testHugeLayerCountIsRefusedBeforeAllocating() throws {
        let error = try rejection("gemma2-huge-num-hidden-layers.json")
        XCTAssertTrue("\(error.map { "\($0)" } ?? "")".contains("num_hidden_layers"), "\(String(describing: error))")
    }

    /// Every committed regression input is rejected cleanly (new ones are covered without a new test).
    func testEveryRegressionInputIsRejected() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        XCTAssertFalse(names.isEmpty, "no regression inputs found in \(folder.path)")
        for name in names { _ = try rejection(name) }
    }
}
