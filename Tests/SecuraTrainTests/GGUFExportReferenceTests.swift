// The committed GGUF exports (Tests/Fixtures/gguf-export/) against an independent reader:
// make_gguf_export_reference.py checks every key and tensor with gguf-py (against its own merge of the
// committed PEFT adapter into the base folder), loads each file with transformers' GGUF loader and records
// the loss of fixed token ids; `score`'s loss of the same file must equal it.
//
// The exports are made by this file too, once, when SECURA_WRITE_GGUF_EXPORT_FIXTURES=1 is set:
//   SECURA_WRITE_GGUF_EXPORT_FIXTURES=1 swift test --filter GGUFExportReferenceTests/testWriteFixtures
//   /work/venv-ref/bin/python Tests/Fixtures/make_gguf_export_reference.py
import Foundation
import XCTest
import SecuraIO
import SecuraModel
import TestSupport
@testable import SecuraTrain

final class GGUFExportReferenceTests: XCTestCase {
    static let folder = FixturePaths.fixture("gguf-export")
    static let precisions: [GGUFExport.Precision] = [.f16, .bf16, .q8_0]

    /// Writes each tiny model's trained LoRA adapter (PEFT folder) and its GGUF exports into the fixture folder.
    func testWriteFixtures() throws {
        guard ProcessInfo.processInfo.environment["SECURA_WRITE_GGUF_EXPORT_FIXTURES"] == "1" else {
            throw XCTSkip("set SECURA_WRITE_GGUF_EXPORT_FIXTURES=1 to rewrite Tests/Fixtures/gguf-export")
        }
        try FileManager.default.createDirectory(at: Self.folder, withIntermediateDirectories: true)
        for (fixture, _) in GGUFExportTests.fixtures {
            let (loaded, trainer) = try GGUFExportTests.trainedLoRA(fixture)
            try PEFTFormat.export(trainer.adapters, to: Self.folder.appendingPathComponent("\(fixture)-lora"), baseModel: fixture)
            for precision in Self.precisions {
                let path = Self.folder.appendingPathComponent("\(fixture)-\(precision.rawValue).gguf").path
                try GGUFExportTests.export(loaded, trainer.adapters, to: path, precision)
            }
        }
    }

    /// One file's entry in reference.json.
    struct Entry: Decodable {
        let file: String
        let model: String
        let transformers_loss: Double
        let merged_fp32_loss: Double
        let tensors_checked: Int
    }

    struct Reference: Decodable {
        let tokens: [Int32]
        let exports: [Entry]
    }

    func testScoreOfTheCommittedExportsEqualsTransformers() throws {
        let url = Self.folder.appendingPathComponent("reference.json")
        let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        XCTAssertEqual(reference.exports.count, GGUFExportTests.fixtures.count * Self.precisions.count)
        XCTAssertGreaterThan(reference.tokens.count, 2)
        for entry in reference.exports {
            let path = Self.folder.appendingPathComponent(entry.file).path
            XCTAssertGreaterThan(entry.tensors_checked, 10, entry.file)
            let loss = MergedExportTests.scoreLoss(try ModelLoader.open(path).decoder(), reference.tokens)
            XCTAssertTrue(loss.isFinite && entry.transformers_loss.isFinite, entry.file)
            let relative = abs(loss - entry.transformers_loss) / abs(entry.transformers_loss)
            XCTAssertLessThanOrEqual(relative, 1e-5, "\(entry.file): score \(loss), transformers \(entry.transformers_loss)")
            print("gguf export reference \(entry.file): score \(loss), transformers \(entry.transformers_loss) "
                + "(relative \(relative)); transformers on the fp32 merge \(entry.merged_fp32_loss)")
        }
    }
}
