// Exports are staged: a failure mid-way leaves no folder (or the previous one untouched) and no hidden
// leftovers; a success replaces the previous folder whole, keeping only what `carryOver` accepts.
import Foundation
import XCTest
import TestSupport
@testable import SecuraTrain

final class StagedFolderTests: XCTestCase {
    struct Full: Error {}

    func testAFailureLeavesNothingNewBehind() throws {
        let dir = try TempDirectory()
        let out = URL(fileURLWithPath: dir.path("export"))
        XCTAssertThrowsError(try StagedFolder.write(out) { tmp in
            try Data("half".utf8).write(to: tmp.appendingPathComponent("model.safetensors"))
            throw Full()
        }) { XCTAssertTrue($0 is Full) }
        XCTAssertEqual(try dir.contents(), [], "neither the export nor its hidden temporary folder")

        try dir.makeFolder("export")
        try dir.write("old weights", to: "export/model.safetensors")
        try dir.write("old config", to: "export/config.json")
        XCTAssertThrowsError(try StagedFolder.write(out) { tmp in
            try Data("new config".utf8).write(to: tmp.appendingPathComponent("config.json"))
            throw Full()
        })
        XCTAssertEqual(try dir.contents(), ["export"])
        XCTAssertEqual(try String(contentsOfFile: dir.path("export/config.json"), encoding: .utf8), "old config",
                       "the previous export is untouched, not mixed with the new one")
    }

    func testASuccessReplacesTheFolderKeepingWhatCarryOverAccepts() throws {
        let dir = try TempDirectory()
        try dir.makeFolder("export")
        for name in ["model-00001-of-00002.safetensors", "config.json", "README.md"] { try dir.write("old", to: "export/" + name) }
        try StagedFolder.write(URL(fileURLWithPath: dir.path("export")), carryOver: { !$0.hasSuffix(".safetensors") }) { tmp in
            for name in ["model.safetensors", "config.json"] { try Data("new".utf8).write(to: tmp.appendingPathComponent(name)) }
        }
        XCTAssertEqual(try dir.contents(), ["export"])
        XCTAssertEqual(try dir.contents(of: "export"), ["README.md", "config.json", "model.safetensors"])
        XCTAssertEqual(try String(contentsOfFile: dir.path("export/config.json"), encoding: .utf8), "new")
    }
}
