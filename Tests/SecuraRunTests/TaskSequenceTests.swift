// Continual learning on the run API: the fusion at a task switch equals the merged export, an interrupted
// sequence continues to the same final state (with and without fusion), a sequence without fusion carries
// task 1's adapter and optimizer state into task 2 and ends elsewhere than the fused one, and the summary
// numbers of an accuracy matrix.
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraIO
import SecuraModel
@testable import SecuraRun
import SecuraTrain
import TestSupport
import XCTest

final class TaskSequenceTests: XCTestCase {
    func sequence(_ dir: TempDirectory, tasks: [String], folder: String, method: AdapterMethodName = .lora, fuse: Bool = true,
                  events: @escaping (RunEvent) -> Void = { _ in }) throws -> TaskSequence {
        let model = try XCTUnwrap(FixturePaths.smolLM2, "SmolLM2 GGUF missing (looked at \(FixturePaths.smolLM2Candidates)): run launch/fetch-model.sh")
        var t = TrainConfiguration(model: model, data: DataSettings(path: "-"), output: OutputSettings(folder: "-"))
        t.method.method = method.method
        t.method.cabrInit = .slice
        t.optimizer.steps = 2
        t.optimizer.batchSize = 2
        t.optimizer.lr = 1e-3
        t.prompt.maxLength = 64
        t.data.validationLimit = 1
        return TaskSequence(tasks: tasks, template: t, folder: URL(fileURLWithPath: dir.path(folder)),
                            comm: SingleProcessCommunicator(), solvers: nil, fuseAtTaskEnd: fuse, events: events)
    }

    func taskFiles(_ dir: TempDirectory) throws -> [String] {
        var add: [String] = [], more: [String] = []
        for n in 1...5 {
            for m in 1...4 {
                add.append(#"{"input": "How many apples are \#(n) and \#(m) apples?", "output": "\#(n + m)"}"#)
                more.append(#"{"input": "Which is more, \#(n) or \#(n + m)?", "output": "\#(n + m)"}"#)
            }
        }
        return [try dir.write(add.joined(separator: "\n"), to: "add.jsonl"), try dir.write(more.joined(separator: "\n"), to: "more.jsonl")]
    }

    func testFusionEqualsTheMergedExportAndSequencesResume() throws {
        let dir = try TempDirectory()
        let tasks = try taskFiles(dir)
        let straight = try sequence(dir, tasks: tasks, folder: "straight", method: .secuaM1)
        let model = try ModelContext.open(straight.template.model)
        var fusedAfterFirst: ModelContext?
        let final = try straight.run(model: model) { index, fused in if index == 0 { fusedAfterFirst = fused } }

        // The fused weights after task 1 are what `export --format merged --dtype fp32` writes for its adapter.
        let adapter = straight.taskFolder(0).appendingPathComponent("adapter").path
        let adapters = try AdapterLoader.open(adapter, config: model.config, base: model.loaded.source, loadMasters: false)
        let export = URL(fileURLWithPath: dir.path("export"))
        try MergedExport.write(adapters, base: model.loaded.source, tensorNames: adapters.plans.map(\.site.weightName),
                               config: model.loaded.raw, to: export, dtype: .f32, tokenizerFiles: [],
                               current: { try AdapterLoader.storedMasters(adapter, adapters: adapters)?.weight($0) })
        let written = try SafeTensorsFile(path: export.appendingPathComponent("model.safetensors").path)
        let fused = try XCTUnwrap(fusedAfterFirst)
        XCTAssertEqual(adapters.plans.count, 60)
        for plan in adapters.plans {
            let name = plan.site.weightName
            assertBitIdentical(try fused.loaded.source.view(name).toFloatArray(), try written.floats(name), name)
        }
        // The second task trained on the fused weights: its base is not the original model's.
        let name = adapters.plans[0].site.weightName
        XCTAssertNotNil(bitIdentityFailure(try final.loaded.source.view(name).toFloatArray(), try model.loaded.source.view(name).toFloatArray()))

        // Interrupted after task 1: the longer sequence in the same folder skips it, fuses it again and
        // ends with the same state as the uninterrupted sequence.
        let first = try sequence(dir, tasks: [tasks[0]], folder: "resumed", method: .secuaM1)
        try first.run(model: model)
        let both = try sequence(dir, tasks: tasks, folder: "resumed", method: .secuaM1)
        var notes: [String] = []
        let resumed = TaskSequence(tasks: both.tasks, template: both.template, folder: both.folder, comm: both.comm, solvers: nil) {
            if case let .note(line) = $0 { notes.append(line) }
        }
        let again = try resumed.run(model: model)
        XCTAssertTrue(notes.contains { $0.contains("trained before") }, "\(notes)")
        for file in ["2-more/adapter/state.safetensors"] {
            let a = try SafeTensorsFile(path: dir.path("straight/" + file)), b = try SafeTensorsFile(path: dir.path("resumed/" + file))
            XCTAssertEqual(a.names, b.names)
            XCTAssertFalse(a.names.isEmpty)
            for n in a.names { assertBitIdentical(try b.floats(n), try a.floats(n), n) }
        }
        for plan in adapters.plans {
            let n = plan.site.weightName
            assertBitIdentical(try again.loaded.source.view(n).toFloatArray(), try final.loaded.source.view(n).toFloatArray(), n)
        }
    }

    /// The tensors of `file` (a safetensors path relative to `dir`) in two sequence folders, bit for bit.
    func assertSameFile(_ dir: TempDirectory, _ a: String, _ b: String, _ file: String, line: UInt = #line) throws {
        let x = try SafeTensorsFile(path: dir.path(a + "/" + file)), y = try SafeTensorsFile(path: dir.path(b + "/" + file))
        XCTAssertEqual(x.names, y.names, file, line: line)
        XCTAssertFalse(x.names.isEmpty, file, line: line)
        for n in x.names { assertBitIdentical(try y.floats(n), try x.floats(n), "\(file) \(n)", line: line) }
    }

    /// The validation loss before the first step of every task run (`.initialValidation` events), in order.
    func initialLosses(_ notes: [RunEvent]) -> [Double] {
        notes.compactMap { if case let .initialValidation(loss) = $0 { return loss } else { return nil } }
    }

    func testWithoutFusionTask2StartsFromTask1sAdapterAndEndsElsewhere() throws {
        let dir = try TempDirectory()
        let tasks = try taskFiles(dir)
        let model = try ModelContext.open(try sequence(dir, tasks: tasks, folder: "-").template.model)
        var fusedEvents: [RunEvent] = [], carriedEvents: [RunEvent] = [], aloneEvents: [RunEvent] = []
        let fused = try sequence(dir, tasks: tasks, folder: "fused") { fusedEvents.append($0) }
        let carried = try sequence(dir, tasks: tasks, folder: "carried", fuse: false) { carriedEvents.append($0) }
        try fused.run(model: model)
        let final = try carried.run(model: model)
        // Task 2 alone on the original model with a fresh adapter: where a sequence that carried nothing would start.
        try sequence(dir, tasks: [tasks[1]], folder: "alone", fuse: false) { aloneEvents.append($0) }.run(model: model)

        // Task 2's run was told to start from task 1's final checkpoint, and said so.
        XCTAssertEqual(carried.configuration(1).sequence?.startState, carried.finalCheckpoint(0).path)
        XCTAssertNil(fused.configuration(1).sequence?.startState)
        XCTAssertTrue(carriedEvents.contains { if case let .note(l) = $0 { return l.contains("starting from the previous task's state after its 2 steps") } else { return false } })
        // Its loss before the first step is task 1's adapter's on task 2: what the fused sequence starts from
        // (the same function, up to the rounding of the fused weights), not a fresh adapter's.
        let fusedStart = try XCTUnwrap(initialLosses(fusedEvents).last), carriedStart = try XCTUnwrap(initialLosses(carriedEvents).last)
        let freshStart = try XCTUnwrap(initialLosses(aloneEvents).first)
        XCTAssertEqual(initialLosses(carriedEvents).count, 2)
        XCTAssertEqual(carriedStart, fusedStart, accuracy: 1e-4)
        XCTAssertGreaterThan(abs(carriedStart - freshStart), 1e-3, "task 2 started from a fresh adapter (\(carriedStart) vs \(freshStart))")
        // AdamW's step count went on from task 1's (2 + 2); the fused sequence restarted it.
        XCTAssertEqual(try Checkpoint.readState(carried.finalCheckpoint(1)).adamStep, 4)
        XCTAssertEqual(try Checkpoint.readState(fused.finalCheckpoint(1)).adamStep, 2)

        // The two sequences end in different states: another adapter, and the unfused model is the original.
        let a = try SafeTensorsFile(path: dir.path("fused/2-more/adapter/state.safetensors"))
        let b = try SafeTensorsFile(path: dir.path("carried/2-more/adapter/state.safetensors"))
        XCTAssertEqual(a.names, b.names)
        XCTAssertTrue(try a.names.contains { bitIdentityFailure(try a.floats($0), try b.floats($0)) != nil }, "fused and carried adapters are the same bits")
        let adapter = carried.taskFolder(1).appendingPathComponent("adapter").path
        let name = try AdapterLoader.open(adapter, config: model.config, base: model.loaded.source, loadMasters: false).plans[0].site.weightName
        let original = try model.loaded.source.view(name).toFloatArray()
        XCTAssertNotNil(bitIdentityFailure(try final.loaded.source.view(name).toFloatArray(), original), "the returned model has task 2's adapter merged")
        XCTAssertNil(bitIdentityFailure(try carried.run(model: model).loaded.source.view(name).toFloatArray(),
                                        try final.loaded.source.view(name).toFloatArray()), "a finished sequence run again ends in the same state")
    }

    func testAnInterruptedSequenceWithoutFusionResumesToTheSameState() throws {
        let dir = try TempDirectory()
        let tasks = try taskFiles(dir)
        let straight = try sequence(dir, tasks: tasks, folder: "straight", method: .secuaM1, fuse: false)
        let model = try ModelContext.open(straight.template.model)
        try straight.run(model: model)
        // Interrupted after task 1: the longer sequence skips it and starts task 2 from its final checkpoint.
        try sequence(dir, tasks: [tasks[0]], folder: "resumed", method: .secuaM1, fuse: false).run(model: model)
        var notes: [String] = []
        try sequence(dir, tasks: tasks, folder: "resumed", method: .secuaM1, fuse: false) {
            if case let .note(line) = $0 { notes.append(line) }
        }.run(model: model)
        XCTAssertTrue(notes.contains { $0.contains("trained before") && $0.contains("starts from its final state") }, "\(notes)")
        // Every persisted tensor of task 2's end, SECURA-M1's carried masters included.
        let masters = try XCTUnwrap(try FileManager.default.contentsOfDirectory(atPath: dir.path("straight/2-more/adapter")).first { $0.hasPrefix("masters-rank") })
        for file in ["state.safetensors", masters] {
            try assertSameFile(dir, "straight", "resumed", "2-more/checkpoints/step-00000002/" + file)
        }
    }

    func testTheMemoryPlanKnowsWhichTasksTrainOnFusedWeights() throws {
        let dir = try TempDirectory()
        let fused = try sequence(dir, tasks: ["a.jsonl", "b.jsonl", "c.jsonl"], folder: "f")
        let carried = try sequence(dir, tasks: ["a.jsonl", "b.jsonl", "c.jsonl"], folder: "c", fuse: false)
        XCTAssertEqual((0..<3).map { fused.configuration($0).sequenceMemory.trainsOnFusedWeights }, [false, true, true])
        XCTAssertEqual((0..<3).map { carried.configuration($0).sequenceMemory.trainsOnFusedWeights }, [false, false, false])
        XCTAssertTrue((0..<3).allSatisfy { carried.configuration($0).sequenceMemory.fusesAfterRun }, "scored through a merged view")
        XCTAssertEqual((0..<3).map { carried.configuration($0).sequence?.startState != nil }, [false, true, true])
        var ewc = fused.template
        ewc.ewc = EWCSettings(lambda: 1)
        let withEWC = TaskSequence(tasks: fused.tasks, template: ewc, folder: fused.folder, comm: fused.comm, solvers: nil, events: { _ in })
        XCTAssertEqual(withEWC.configuration(0).sequenceMemory.ewcHasPenalty, false)
        XCTAssertEqual(withEWC.configuration(2).sequenceMemory.ewcHasPenalty, true)
        XCTAssertNil(fused.configuration(2).sequenceMemory.ewcHasPenalty)
        // EWC on an adapter method: refused when fused (the adapter restarts), taken when the adapter is carried.
        XCTAssertThrowsError(try withEWC.configuration(1).validate()) { XCTAssertTrue("\($0)".contains("--no-fuse-at-task-end"), "\($0)") }
        let carriedEWC = TaskSequence(tasks: fused.tasks, template: ewc, folder: fused.folder, comm: fused.comm, solvers: nil,
                                      fuseAtTaskEnd: false, events: { _ in })
        XCTAssertNoThrow(try carriedEWC.configuration(1).validate())
    }

    func testMetricsOfAnAccuracyMatrix() {
        let a = [[0.5, 0.1, 0.2],
                 [0.3, 0.6, 0.25],
                 [0.2, 0.4, 0.7]]
        let m = ContinualMetrics(matrix: a, base: [0.1, 0.05, 0.2])
        XCTAssertEqual(m.average, (0.2 + 0.4 + 0.7) / 3, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(m.backwardTransfer), ((0.2 - 0.5) + (0.4 - 0.6)) / 2, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(m.forwardTransfer), ((0.1 - 0.05) + (0.25 - 0.2)) / 2, accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(m.forgetting), ((0.5 - 0.2) + (0.6 - 0.4)) / 2, accuracy: 1e-12)
        let one = ContinualMetrics(matrix: [[0.4]], base: [0.1])
        XCTAssertEqual(one.average, 0.4)
        XCTAssertNil(one.backwardTransfer)
        XCTAssertNil(one.forgetting)
    }
}

/// The methods these tests run.
enum AdapterMethodName {
    case lora, secuaM1
    var method: SecuraAdapters.AdapterMethod { self == .lora ? .lora : .securaM1 }
}
