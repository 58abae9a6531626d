// `--resume auto`'s choice (Checkpoint.newestUsable): a damaged newest checkpoint (a flipped bit, an
// unreadable state.json, a missing master file) is reported with its reason and the next older whole one
// is taken; when every checkpoint is damaged it is an error, and with none at all there is no choice.
import Foundation
import XCTest
import SecuraIO
import TestSupport
@testable import SecuraTrain

final class CheckpointResumeTests: XCTestCase {
    /// SECURA-M1 checkpoints after steps 2 and 3 in `dir`.
    func checkpoints(in dir: TempDirectory) throws -> (older: URL, newest: URL) {
        let trainer = try TrainingTests.makeTrainer(.securaM1, steps: 4)
        for _ in 0..<2 { _ = try trainer.trainStep() }
        let older = URL(fileURLWithPath: dir.path(Checkpoint.name(step: 2)))
        try Checkpoint.save(trainer, modelPath: "tiny-llama", to: older, optimizer: true)
        _ = try trainer.trainStep()
        let newest = URL(fileURLWithPath: dir.path(Checkpoint.name(step: 3)))
        try Checkpoint.save(trainer, modelPath: "tiny-llama", to: newest, optimizer: true)
        return (older, newest)
    }

    /// The choice for `dir` and the folders passed over with their reasons.
    func choose(_ dir: TempDirectory) throws -> (URL?, [(String, String)]) {
        var skipped: [(String, String)] = []
        let chosen = try Checkpoint.newestUsable(in: URL(fileURLWithPath: dir.path)) { skipped.append(($0.lastPathComponent, $1)) }
        return (chosen, skipped)
    }

    func testWholeCheckpointsGiveTheNewest() throws {
        let dir = try TempDirectory()
        let (_, newest) = try checkpoints(in: dir)
        let (chosen, skipped) = try choose(dir)
        XCTAssertEqual(chosen?.lastPathComponent, newest.lastPathComponent)
        XCTAssertTrue(skipped.isEmpty, "\(skipped)")
        let empty = try TempDirectory()
        XCTAssertNil(try choose(empty).0, "no checkpoint: nothing to resume from, and no error")
    }

    func testADamagedNewestFallsBackToTheOlderOne() throws {
        let damages: [(String, (URL) throws -> Void)] = [
            ("is damaged", { folder in
                let file = folder.appendingPathComponent("state.safetensors")
                let range = try XCTUnwrap(SafeTensorsFile(path: file.path).entry(
                    XCTUnwrap(SafeTensorsFile(path: file.path).names.first { $0.contains("cabr_B") }))).fileRange
                var bytes = Array(try Data(contentsOf: file))
                bytes[(range.lowerBound + range.upperBound) / 2] ^= 0x10
                try Data(bytes).write(to: file)
            }),
            ("state.json", { try Data("{\"step\": ".utf8).write(to: $0.appendingPathComponent("state.json")) }),
            ("the file is missing", { folder in
                let masters = try XCTUnwrap(FileManager.default.contentsOfDirectory(atPath: folder.path).first { $0.hasPrefix("masters-rank") })
                try FileManager.default.removeItem(at: folder.appendingPathComponent(masters))
            }),
        ]
        for (needle, damage) in damages {
            let dir = try TempDirectory()
            let (older, newest) = try checkpoints(in: dir)
            try damage(newest)
            let (chosen, skipped) = try choose(dir)
            XCTAssertEqual(chosen?.lastPathComponent, older.lastPathComponent, needle)
            XCTAssertEqual(skipped.map(\.0), [newest.lastPathComponent], needle)
            XCTAssertTrue(skipped.first?.1.contains(needle) == true, "\(needle): \(skipped)")
            // The older checkpoint it falls back to resumes.
            XCTAssertNoThrow(try TrainingTests.makeTrainer(.securaM1, steps: 4).resume(from: XCTUnwrap(chosen)), needle)
        }
    }

    func testEveryCheckpointDamagedIsAnError() throws {
        let dir = try TempDirectory()
        let (older, newest) = try checkpoints(in: dir)
        for folder in [older, newest] { try Data("not json".utf8).write(to: folder.appendingPathComponent("state.json")) }
        XCTAssertThrowsError(try choose(dir)) { error in
            guard case let .noUsableCheckpoint(path, reasons)? = error as? CheckpointError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, dir.path)
            XCTAssertEqual(reasons.count, 2)
            XCTAssertTrue(reasons[0].hasPrefix(newest.lastPathComponent) && reasons[1].hasPrefix(older.lastPathComponent), "\(reasons)")
            XCTAssertTrue("\(error)".hasPrefix("\(dir.path): all 2 checkpoints are damaged, none to resume from (the newest, \(reasons[0]))"), "\(error)")
        }
    }
}
