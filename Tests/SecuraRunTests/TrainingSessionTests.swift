// A training run through the library API on SmolLM2: the events arrive in order with the values the
// summary holds, summary.json and metrics.jsonl are written, a resumed run continues from its checkpoint,
// and one opened model serves two runs (as an experiment or a task sequence uses it).
import Foundation
import SecuraDistributed
import SecuraRun
import SecuraTrain
import TestSupport
import XCTest

final class TrainingSessionTests: XCTestCase {
    /// A 4-step LoRA run on 30 small examples.
    func configuration(_ dir: TempDirectory, output: String = "run", steps: Int = 4) throws -> TrainConfiguration {
        let model = try XCTUnwrap(FixturePaths.smolLM2, "SmolLM2 GGUF missing (looked at \(FixturePaths.smolLM2Candidates)): run launch/fetch-model.sh")
        var lines: [String] = []
        for n in 1...6 { for m in 1...5 { lines.append(#"{"input": "How many apples are \#(n) and \#(m) apples?", "output": "\#(n + m)"}"#) } }
        let data = try dir.write(lines.joined(separator: "\n"), to: "task.jsonl")
        var c = TrainConfiguration(model: model, data: DataSettings(path: data), output: OutputSettings(folder: dir.path(output)))
        c.method.method = .lora
        c.optimizer.steps = steps
        c.optimizer.batchSize = 2
        c.optimizer.lr = 1e-3
        c.prompt.maxLength = 64
        c.data.validationLimit = 2
        c.cadence.saveEvery = 2
        c.cadence.evalEvery = 2
        c.cadence.logEvery = 3
        return c
    }

    func testEventsSummaryAndFiles() throws {
        let dir = try TempDirectory()
        let c = try configuration(dir)
        var events: [RunEvent] = []
        let summary = try TrainingSession(c, comm: SingleProcessCommunicator(), solvers: nil) { events.append($0) }.run()

        let steps = events.compactMap { if case let .step(e) = $0 { return e } else { return nil } }
        XCTAssertEqual(steps.map(\.report.step), [1, 2, 3, 4])
        XCTAssertEqual(steps.map(\.isLogStep), [false, false, true, true])
        XCTAssertEqual(steps.map { $0.validationLoss != nil }, [false, true, false, true])
        XCTAssertTrue(steps.allSatisfy { $0.totalSteps == 4 && $0.tokensPerSecond > 0 })
        XCTAssertEqual(steps.last?.etaSeconds, 0)
        let checkpoints = events.compactMap { if case let .checkpoint(step, _) = $0 { return step } else { return nil } }
        XCTAssertEqual(checkpoints, [2, 4])
        XCTAssertTrue(events.contains { if case .initialValidation = $0 { return true } else { return false } })
        guard case .finished = events.last else { return XCTFail("the last event is not .finished") }

        XCTAssertEqual(summary.final_step, 4)
        XCTAssertEqual(summary.steps_run, 4)
        XCTAssertEqual(summary.start_step, 0)
        XCTAssertEqual(summary.final_loss, steps.last?.report.loss)
        XCTAssertEqual(summary.final_validation_loss, steps.last?.validationLoss)
        XCTAssertEqual(summary.tokens, steps.map(\.report.processedTokens).reduce(0, +))
        XCTAssertEqual(summary.configuration, c)
        XCTAssertEqual(summary.init_method, "none")
        XCTAssertGreaterThan(summary.trainable_parameters, 0)

        let written = try TrainSummary.read(URL(fileURLWithPath: dir.path("run/summary.json")))
        XCTAssertEqual(written.final_step, 4)
        XCTAssertEqual(written.configuration, c)
        XCTAssertEqual(written.final_loss, summary.final_loss)
        // The weight movement: every adapted matrix, moved (the run trained), and recorded in the file.
        let movement = try XCTUnwrap(summary.weight_movement)
        XCTAssertEqual(movement.per_matrix.count, 30 * c.method.targets.count, "SmolLM2's 30 layers × targets")
        XCTAssertTrue(movement.per_matrix.values.allSatisfy { $0 > 0 && $0 < 1 }, "\(movement.per_matrix)")
        XCTAssertEqual(Set(movement.mean_by_projection.keys), Set(c.method.targets.map(\.rawValue)))
        XCTAssertEqual(written.weight_movement, movement)
        let metrics = try String(contentsOfFile: dir.path("run/metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(metrics.count, 5, "step 0's validation line and one line per step")
        for folder in ["adapter", "adapter-peft", "checkpoints/step-00000002", "checkpoints/step-00000004"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir.path("run/" + folder)), folder)
        }

        // Resume from step 2 in a new output: the same final loss as the uninterrupted run.
        var resumed = c
        resumed.output = OutputSettings(folder: dir.path("resumed"))
        resumed.output.resume = dir.path("run/checkpoints/step-00000002")
        let again = try TrainingSession(resumed, comm: SingleProcessCommunicator(), solvers: nil) { _ in }.run()
        XCTAssertEqual(again.start_step, 2)
        XCTAssertEqual(again.steps_run, 2)
        XCTAssertEqual(again.final_loss, summary.final_loss)
    }

    func testOneModelServesTwoRuns() throws {
        let dir = try TempDirectory()
        let first = try configuration(dir, output: "first", steps: 2)
        var second = first
        second.output = OutputSettings(folder: dir.path("second"))
        second.method.method = .curLoRA
        second.method.cabrInit = .slice
        let model = try ModelContext.open(first.model, comm: SingleProcessCommunicator(), note: { _ in })
        let a = try TrainingSession(first, comm: SingleProcessCommunicator(), solvers: nil) { _ in }.run(model: model)
        let b = try TrainingSession(second, comm: SingleProcessCommunicator(), solvers: nil) { _ in }.run(model: model)
        XCTAssertEqual(a.method, "lora")
        XCTAssertEqual(b.method, "cur-lora")
        XCTAssertEqual(b.final_step, 2)
        // The base model is untouched by the first run: a fresh context gives the second run the same loss.
        var fresh = second
        fresh.output = OutputSettings(folder: dir.path("fresh"))
        let c = try TrainingSession(fresh, comm: SingleProcessCommunicator(), solvers: nil) { _ in }.run()
        XCTAssertEqual(c.final_loss, b.final_loss)
    }

    func testBadSettingsFailBeforeAnythingIsWritten() throws {
        let dir = try TempDirectory()
        var c = try configuration(dir)
        c.optimizer.batchSize = 2_147_483_648
        XCTAssertThrowsError(try TrainingSession(c, comm: SingleProcessCommunicator(), solvers: nil) { _ in }.run()) {
            XCTAssertEqual(($0 as? RunSettingError)?.setting, .batchSize)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path("run")))
        c = try configuration(dir)
        c.method.method = .cabrLoRA
        c.method.cabrInit = .svd
        XCTAssertThrowsError(try TrainingSession(c, comm: SingleProcessCommunicator(), solvers: nil) { _ in }.run()) {
            XCTAssertTrue("\($0)".contains("needs an SVD solver"), "\($0)")
        }
    }
}
