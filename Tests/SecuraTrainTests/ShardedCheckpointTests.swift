// Checkpoints whose SECURA-M1 masters are written as per-rank row files: written by 2, 3 and 4
// in-process ranks (one or two simulated nodes), they restore bit-identically on 1, 2 and 3 ranks and
// through AdapterLoader; missing or overlapping files are refused naming the file and rows; a failure on
// any rank leaves the previous checkpoint intact; state-1 folders (masters in state.safetensors) still load.
import Foundation
import XCTest
import SecuraAdapters
import SecuraDistributed
import SecuraIO
import SecuraModel
import TestSupport
@testable import SecuraTrain

final class ShardedCheckpointTests: XCTestCase {
    /// Every tensor of a trainer's RunStateLayout (values, AdamW moments, merged masters), and its step.
    struct Snapshot: Equatable {
        var names: [String], tensors: [[Float]], step: Int
        var masters: [Float] { zip(names, tensors).filter { $0.0.hasPrefix("master/") }.flatMap(\.1) }
    }

    static func makeTrainer(_ comm: Communicator) throws -> Trainer {
        let loaded = try ModelLoader.open(FixturePaths.fixture("tiny-llama").path)
        var s = MethodSettings()
        s.method = .securaM1
        s.cabrInit = .slice
        s.curRank = 16
        s.cabrM = 20
        let adapters = try AdapterSet(config: loaded.config, base: loaded.source, settings: s, seed: 3, solver: NoSVD(), comm: comm)
        var o = TrainingOptions()
        o.batchSize = 6
        o.microBatch = 1
        o.schedule = LRSchedule(kind: .constant, base: 5e-2, warmup: 0, total: 10)
        return try Trainer(adapters: adapters, options: o, comm: comm, train: TrainingTests.examples(seed: 1), validation: [])
    }

    static func snapshot(_ t: Trainer) -> Snapshot {
        let entries = RunStateLayout(t.adapters, optimizer: t.optimizer).entries
        return Snapshot(names: entries.map(\.name), tensors: entries.map { $0.toArray() }, step: t.step)
    }

    static func temporaryFolder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("ckpt-\(UUID().uuidString)")
    }

    /// Trains `steps` steps on `ranks` in-process ranks and saves to `folder`; rank 0's snapshot.
    static func trainAndSave(ranks: Int, perNode: Int, steps: Int, to folder: URL) throws -> Snapshot {
        try InProcessWorld.run(ranks: ranks, ranksPerNode: perNode) { comm -> Snapshot in
            let t = try makeTrainer(comm)
            for _ in 0..<steps { _ = try t.trainStep() }
            try Checkpoint.save(t, modelPath: "tiny-llama", to: folder, optimizer: true)
            return snapshot(t)
        }[0]
    }

    static func restore(_ folder: URL, ranks: Int) throws -> [Snapshot] {
        try InProcessWorld.run(ranks: ranks) { comm -> Snapshot in
            let t = try makeTrainer(comm)
            try t.resume(from: folder)
            return snapshot(t)
        }
    }

    func testShardedCheckpointRestoresBitIdenticallyOnAnyRankCount() throws {
        let fresh = Self.snapshot(try Self.makeTrainer(SingleProcessCommunicator()))
        for (ranks, perNode) in [(2, 2), (3, 3), (4, 2)] {
            let root = Self.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: root) }
            let folder = root.appendingPathComponent(Checkpoint.name(step: 2))
            let saved = try Self.trainAndSave(ranks: ranks, perNode: perNode, steps: 2, to: folder)
            XCTAssertNotEqual(saved.masters, fresh.masters, "training changed the masters (else the comparison proves nothing)")
            XCTAssertFalse(saved.masters.isEmpty)

            let state = try Checkpoint.readState(folder)
            XCTAssertEqual(state.format, "secura-dist/state-3")
            let files = try XCTUnwrap(state.masterFiles)
            XCTAssertGreaterThanOrEqual(files.count, 2, "\(ranks) ranks: rows are spread over several files: \(files)")
            XCTAssertTrue(files.allSatisfy { f in (0..<perNode).contains { f == CheckpointMasters.fileName(rank: $0, of: ranks) } },
                          "only the ranks of rank 0's node write master rows: \(files)")
            let stateFile = try SafeTensorsFile(path: folder.appendingPathComponent("state.safetensors").path)
            XCTAssertFalse(stateFile.names.contains { $0.hasPrefix("master/") }, "no gathered masters in state.safetensors")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.path), [folder.lastPathComponent],
                           "no temporary folder is left behind")

            for restoreRanks in [1, 2, 3] {
                for (r, restored) in try Self.restore(folder, ranks: restoreRanks).enumerated() {
                    XCTAssertEqual(restored, saved, "written by \(ranks) ranks, restored on rank \(r) of \(restoreRanks)")
                }
            }
            let loaded = try ModelLoader.open(FixturePaths.fixture("tiny-llama").path)
            let adapters = try AdapterLoader.open(folder.path, config: loaded.config, base: loaded.source)
            XCTAssertEqual(adapters.masters.keys.sorted().flatMap { adapters.masters[$0]!.toArray() }, saved.masters,
                           "AdapterLoader (one process) reassembles the masters")
        }
    }

    func testMissingAndOverlappingMasterFilesAreRefused() throws {
        let root = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("step")
        _ = try Self.trainAndSave(ranks: 3, perNode: 3, steps: 1, to: folder)
        let state = try Checkpoint.readState(folder)
        let files = try XCTUnwrap(state.masterFiles)
        let fm = FileManager.default

        // An overlapping copy listed in state.json.
        let copy = CheckpointMasters.fileName(rank: 7, of: 3)
        try fm.copyItem(at: folder.appendingPathComponent(files[0]), to: folder.appendingPathComponent(copy))
        var overlapping = state
        overlapping.masterFiles = files + [copy]
        try JSONEncoder().encode(overlapping).write(to: folder.appendingPathComponent("state.json"))
        assertRefused(folder, mentions: ["overlap", "rows", files[0], copy])

        // A missing file.
        try JSONEncoder().encode(state).write(to: folder.appendingPathComponent("state.json"))
        try fm.removeItem(at: folder.appendingPathComponent(files.last!))
        assertRefused(folder, mentions: ["missing", files.last!, "rows", "are in no file"])
    }

    private func assertRefused(_ folder: URL, mentions: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Self.restore(folder, ranks: 1), file: file, line: line) { error in
            let text = "\(error)"
            for word in mentions { XCTAssertTrue(text.contains(word), "'\(word)' not in: \(text)", file: file, line: line) }
        }
    }

    func testAFailureOnAnyRankLeavesThePreviousCheckpointIntact() throws {
        struct Injected: Error {}
        for failing in [0, 1] {
            let root = Self.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: root) }
            let folder = root.appendingPathComponent("adapter")
            let results = try InProcessWorld.run(ranks: 2) { comm -> (Snapshot, Bool) in
                let t = try Self.makeTrainer(comm)
                _ = try t.trainStep()
                try Checkpoint.save(t, modelPath: "tiny-llama", to: folder, optimizer: true)
                let first = Self.snapshot(t)
                _ = try t.trainStep()
                var threw = false
                do {
                    try Checkpoint.save(t, modelPath: "tiny-llama", to: folder, optimizer: true,
                                        injectingFailure: { if $0 == failing { throw Injected() } })
                } catch { threw = true }
                return (first, threw)
            }
            XCTAssertEqual(results.map(\.1), [true, true], "rank \(failing) failing makes every rank throw")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.path), ["adapter"], "no half folder is left")
            XCTAssertEqual(try Self.restore(folder, ranks: 1)[0], results[0].0, "the previous checkpoint is intact")
        }
    }

    func testStateOneCheckpointsStillLoad() throws {
        let root = Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("step")
        let saved = try Self.trainAndSave(ranks: 2, perNode: 2, steps: 1, to: folder)
        // Rewrite it the way state-1 stored it: whole masters in state.safetensors, no master files.
        let t = try Self.makeTrainer(SingleProcessCommunicator())
        try t.resume(from: folder)
        let old = try SafeTensorsFile(path: folder.appendingPathComponent("state.safetensors").path)
        var w = SafeTensorsWriter(path: folder.appendingPathComponent("state-1.safetensors").path,
                                  metadata: ["format": "secura-dist/state-1"])
        for name in old.names { try w.add(name, floats: try old.floats(name), shape: old.entry(name)!.shape) }
        for (site, m) in t.adapters.masters { try w.add("master/" + site.weightName, floats: m.toArray(), shape: [m.rows, m.columns]) }
        try w.write()
        var state = try Checkpoint.readState(folder)
        for f in state.masterFiles ?? [] { try FileManager.default.removeItem(at: folder.appendingPathComponent(f)) }
        try FileManager.default.removeItem(at: folder.appendingPathComponent("state.safetensors"))
        try FileManager.default.moveItem(at: folder.appendingPathComponent("state-1.safetensors"),
                                         to: folder.appendingPathComponent("state.safetensors"))
        state.format = "secura-dist/state-1"
        state.masterFiles = nil
        try JSONEncoder().encode(state).write(to: folder.appendingPathComponent("state.json"))
        for restored in try Self.restore(folder, ranks: 2) { XCTAssertEqual(restored, saved, "state-1 folder on 2 ranks") }
    }
}
