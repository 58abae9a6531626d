// Continual learning on the run API: the fusion at a task switch equals the merged export, an interrupted
// sequence continues to the same final state, and the summary numbers of an accuracy matrix.
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
    func sequence(_ dir: TempDirectory, tasks: [String], folder: String, method: AdapterMethodName = .lora) throws -> TaskSequence {
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
                            comm: SingleProcessCommunicator(), solvers: nil, events: { _ in })
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
