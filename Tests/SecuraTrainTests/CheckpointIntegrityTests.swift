// Damaged checkpoints are refused on load with the file and tensor named (a checksum per tensor, format
// state-3), older state-2 folders without sums still load, and an incomplete folder is never picked
// as the latest checkpoint.
import Foundation
import XCTest
import SecuraAdapters
import SecuraIO
import SecuraModel
import TestSupport
@testable import SecuraTrain

final class CheckpointIntegrityTests: XCTestCase {
    /// A SECURA-M1 checkpoint (state.safetensors + master files) after 2 steps, in `dir`/step-00000002.
    func checkpoint(in dir: TempDirectory) throws -> URL {
        let trainer = try TrainingTests.makeTrainer(.securaM1, steps: 4)
        for _ in 0..<2 { _ = try trainer.trainStep() }
        let folder = URL(fileURLWithPath: dir.path(Checkpoint.name(step: 2)))
        try Checkpoint.save(trainer, modelPath: "tiny-llama", to: folder, optimizer: true)
        return folder
    }

    /// Flips one bit in the middle of `tensor`'s data in `file`.
    func damage(_ file: URL, tensor: String) throws {
        let offset = try XCTUnwrap(SafeTensorsFile(path: file.path).entry(tensor)).fileRange
        var bytes = Array(try Data(contentsOf: file))
        bytes[(offset.lowerBound + offset.upperBound) / 2] ^= 0x04
        try Data(bytes).write(to: file)
    }

    /// The error of resuming a fresh trainer from `folder` (nil when it resumes).
    func resumeError(_ folder: URL) throws -> Error? {
        do {
            try TrainingTests.makeTrainer(.securaM1, steps: 4).resume(from: folder)
            return nil
        } catch { return error }
    }

    func testEveryFileCarriesSumsAndAnIntactCheckpointResumes() throws {
        let dir = try TempDirectory()
        let folder = try checkpoint(in: dir)
        XCTAssertEqual(try Checkpoint.readState(folder).format, "secura-dist/state-3")
        let files = try dir.contents(of: folder.lastPathComponent).filter { $0.hasSuffix(".safetensors") }
        XCTAssertGreaterThan(files.count, 1, "state.safetensors and at least one master file: \(files)")
        for name in files {
            let file = try SafeTensorsFile(path: folder.appendingPathComponent(name).path)
            XCTAssertFalse(file.names.isEmpty, name)
            for tensor in file.names { XCTAssertNotNil(file.metadata[TensorChecksum.key(tensor)], "\(name): \(tensor)") }
        }
        XCTAssertNil(try resumeError(folder))
    }

    func testADamagedTensorIsNamedOnLoad() throws {
        let dir = try TempDirectory()
        let folder = try checkpoint(in: dir)
        let state = folder.appendingPathComponent("state.safetensors")
        let victim = try XCTUnwrap(SafeTensorsFile(path: state.path).names.first { $0.contains("cabr_B") })
        try damage(state, tensor: victim)
        let error = try XCTUnwrap(try resumeError(folder), "a damaged \(victim) must be refused")
        guard case let .corrupted(path, tensor, _)? = error as? CheckpointError else { return XCTFail("\(error)") }
        XCTAssertEqual(path, state.path)
        XCTAssertEqual(tensor, victim)
        XCTAssertTrue("\(error)".contains("'\(victim)' is damaged"), "\(error)")
        // Export and evaluation open adapters through AdapterLoader: refused the same way.
        let loaded = try ModelLoader.open(FixturePaths.fixture("tiny-llama").path)
        XCTAssertThrowsError(try AdapterLoader.open(folder.path, config: loaded.config, base: loaded.source)) {
            XCTAssertTrue("\($0)".contains("'\(victim)' is damaged"), "\($0)")
        }
    }

    func testADamagedMasterIsNamedOnLoad() throws {
        let dir = try TempDirectory()
        let folder = try checkpoint(in: dir)
        let masters = try XCTUnwrap(try dir.contents(of: folder.lastPathComponent).first { $0.hasPrefix("masters-rank") })
        let file = folder.appendingPathComponent(masters)
        let victim = try XCTUnwrap(SafeTensorsFile(path: file.path).names.last)
        try damage(file, tensor: victim)
        let error = try XCTUnwrap(try resumeError(folder), "a damaged master must be refused")
        guard case let .corrupted(path, tensor, _)? = error as? CheckpointError else { return XCTFail("\(error)") }
        XCTAssertEqual(path, file.path)
        XCTAssertEqual(tensor, victim)
    }

    func testStrippedSumsAreRefusedInState3AndAbsentSumsLoadInState2() throws {
        let dir = try TempDirectory()
        let folder = try checkpoint(in: dir)
        for name in try dir.contents(of: folder.lastPathComponent) where name.hasSuffix(".safetensors") {
            try rewriteWithoutSums(folder.appendingPathComponent(name))
        }
        let error = try XCTUnwrap(try resumeError(folder), "a state-3 folder without sums must be refused")
        XCTAssertTrue("\(error)".contains("no checksum"), "\(error)")
        // The same folder labelled state-2 (as written before sums existed) loads unchecked.
        var state = try Checkpoint.readState(folder)
        state.format = "secura-dist/state-2"
        try JSONEncoder().encode(state).write(to: folder.appendingPathComponent("state.json"))
        XCTAssertNil(try resumeError(folder))
    }

    /// Rewrites a safetensors file with the same tensors and metadata minus every checksum key.
    func rewriteWithoutSums(_ url: URL) throws {
        let file = try SafeTensorsFile(path: url.path)
        var writer = SafeTensorsWriter(path: url.path + ".new",
                                       metadata: file.metadata.filter { !$0.key.hasPrefix(TensorChecksum.algorithmKey) })
        for name in file.names {
            let e = try XCTUnwrap(file.entry(name))
            try writer.add(name, dtypeName: e.dtypeName, shape: e.shape, bytes: Array(try file.rawBytes(name)))
        }
        try writer.write()
        try FileManager.default.removeItem(at: url)
        try FileManager.default.moveItem(atPath: url.path + ".new", toPath: url.path)
    }

    func testLatestSkipsFoldersBeingWrittenAndIncompleteOnes() throws {
        let dir = try TempDirectory()
        let complete = try checkpoint(in: dir)
        // A writer killed mid-way leaves its hidden temporary folder; a folder without state.safetensors
        // (copied in part by hand) is not complete either.
        try dir.makeFolder(".step-00000004.partial-12345")
        try dir.write("{}", to: ".step-00000004.partial-12345/state.json")
        try dir.makeFolder("step-00000003")
        try dir.write("{}", to: "step-00000003/state.json")
        XCTAssertEqual(Checkpoint.latest(in: URL(fileURLWithPath: dir.path))?.lastPathComponent, complete.lastPathComponent)
    }
}

extension CheckpointIntegrityTests {
    /// A killed writer's hidden folder is removed by the next successful save; a live writer's is not.
    func testTheNextSaveRemovesAKilledWritersFolder() throws {
        let dir = try TempDirectory()
        try dir.makeFolder(".step-00000003.partial-99999999")   // no such process (beyond pid_max)
        try dir.makeFolder(".step-00000001.old-99999998")
        try dir.makeFolder(".step-00000004.partial-\(getpid())")    // alive: this test
        try dir.makeFolder(".keep-me")
        _ = try checkpoint(in: dir)
        XCTAssertEqual(try dir.contents(), [".keep-me", ".step-00000004.partial-\(getpid())", "step-00000002"])
    }
}
