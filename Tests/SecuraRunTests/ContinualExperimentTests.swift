// The continual experiment's scores inside tasks (--eval-every): they come from the runs' checkpoints, so the
// sequence ends in the same state bit for bit with or without them; results.csv has a row per scored step.
import Foundation
import SecuraDistributed
import SecuraIO
@testable import SecuraRun
import TestSupport
import XCTest

final class ContinualExperimentTests: XCTestCase {
    func settings(_ dir: TempDirectory, folder: String, evalEvery: Int) throws -> ContinualSettings {
        let model = try XCTUnwrap(FixturePaths.smolLM2, "SmolLM2 GGUF missing (looked at \(FixturePaths.smolLM2Candidates)): run launch/fetch-model.sh")
        var add: [String] = [], more: [String] = []
        for n in 1...4 {
            for m in 1...3 {
                add.append(#"{"input": "How many apples are \#(n) and \#(m) apples?", "output": "\#(n + m)"}"#)
                more.append(#"{"input": "Which is more, \#(n) or \#(n + m)?", "output": "\#(n + m)"}"#)
            }
        }
        let tasks = [try dir.write(add.joined(separator: "\n"), to: "add.jsonl"), try dir.write(more.joined(separator: "\n"), to: "more.jsonl")]
        let suite = try dir.write(add.prefix(3).joined(separator: "\n"), to: "apples_test.jsonl")
        var s = ContinualSettings(model: model, tasks: tasks, methods: try MethodSpec.list("lora,secura-m1"), suiteFiles: [suite],
                                  output: dir.path(folder))
        s.stepsPerTask = 3
        s.batchSize = 2
        s.lr = 1e-3
        s.maxLength = 64
        s.suiteLimit = 2
        s.taskLimit = 2
        s.evalEvery = evalEvery
        return s
    }

    func run(_ s: ContinualSettings) throws {
        try ContinualExperiment(s, comm: SingleProcessCommunicator(), solvers: nil, events: { _ in }).run()
    }

    /// results.csv's rows as (method, after_task_index, step) → count, and the after-task rows' lines.
    func csvRows(_ folder: String) throws -> (steps: [String: Int], final: [String]) {
        let lines = try String(contentsOfFile: folder + "/results.csv", encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first?.hasSuffix(",step,fused"), true, "header: \(lines.first ?? "none")")
        var steps: [String: Int] = [:], final: [String] = []
        for line in lines.dropFirst() {
            let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            XCTAssertEqual(f.count, 11, line)
            guard f.count == 11 else { continue }
            XCTAssertEqual(f[10], "true", "fusion at task end is on by default: \(line)")
            steps["\(f[0]) task \(f[2]) step \(f[9])", default: 0] += 1
            if f[9] == "3" { final.append(line) }
        }
        return (steps, final)
    }

    func testScoresInsideTasksLeaveTheSequenceUnchanged() throws {
        let dir = try TempDirectory()
        let plain = try settings(dir, folder: "plain", evalEvery: 0), scored = try settings(dir, folder: "scored", evalEvery: 1)
        try run(plain)
        try run(scored)

        // Every task's final adapter is the same bits with and without the scores at steps 1 and 2.
        let runs = try FileManager.default.contentsOfDirectory(atPath: plain.output).filter { name in
            var folder: ObjCBool = false
            return FileManager.default.fileExists(atPath: plain.output + "/" + name, isDirectory: &folder) && folder.boolValue
        }.sorted()
        XCTAssertEqual(runs.count, 2, "one folder per method: \(runs)")
        var compared = 0
        for run in runs {
            for task in ["1-add", "2-more"] {
                let file = "/\(run)/\(task)/adapter/state.safetensors"
                let a = try SafeTensorsFile(path: plain.output + file), b = try SafeTensorsFile(path: scored.output + file)
                XCTAssertEqual(a.names, b.names, file)
                XCTAssertFalse(a.names.isEmpty, file)
                for n in a.names {
                    assertBitIdentical(try b.floats(n), try a.floats(n), "\(file) \(n)")
                    compared += 1
                }
                // The scored run kept the checkpoints its mid-task scores came from.
                for step in [1, 2] {
                    XCTAssertTrue(FileManager.default.fileExists(atPath: scored.output + "/\(run)/\(task)/scores-step-\(step).json"), "\(run)/\(task) step \(step)")
                }
            }
        }
        XCTAssertGreaterThan(compared, 0)

        // results.csv: 2 scored tasks + 1 retention task = 3 rows per scoring; steps 1, 2 and 3 with --eval-every 1, only 3 without.
        let p = try csvRows(plain.output), s = try csvRows(scored.output)
        for method in ["\"lora\"", "\"secura-m1\""] {
            for task in 1...2 {
                XCTAssertEqual(p.steps["\(method) task \(task) step 3"], 3)
                XCTAssertNil(p.steps["\(method) task \(task) step 1"])
                for step in 1...3 { XCTAssertEqual(s.steps["\(method) task \(task) step \(step)"], 3, "\(method) task \(task) step \(step)") }
            }
        }
        XCTAssertEqual(p.final, s.final, "the scores after each task are the same")
        XCTAssertEqual(p.final.count, 12)
        let markdown = try String(contentsOfFile: scored.output + "/results.md", encoding: .utf8)
        XCTAssertTrue(markdown.contains("Retention suite over the sequence (every 1 steps"), markdown)

        // A sequence trained without checkpoints at those steps cannot be scored inside its tasks afterwards.
        var late = plain
        late.evalEvery = 1
        XCTAssertThrowsError(try run(late)) { error in
            XCTAssertTrue("\(error)".contains("step-00000001"), "\(error)")
        }

        // With the adapters and checkpoints deleted (as one does with `full`'s 1.2 GB per task), the finished
        // methods are read back from their scores: the same tables, nothing retrained or fused.
        let before = try String(contentsOfFile: plain.output + "/results.csv", encoding: .utf8)
        for run in runs {
            for task in ["1-add", "2-more"] {
                for part in ["adapter", "checkpoints"] { try? FileManager.default.removeItem(atPath: plain.output + "/\(run)/\(task)/\(part)") }
                XCTAssertFalse(FileManager.default.fileExists(atPath: plain.output + "/\(run)/\(task)/adapter"))
            }
        }
        var notes: [String] = []
        try ContinualExperiment(plain, comm: SingleProcessCommunicator(), solvers: nil, events: { event in
            if case .note(let line) = event { notes.append(line) }
        }).run()
        XCTAssertEqual(try String(contentsOfFile: plain.output + "/results.csv", encoding: .utf8), before)
        XCTAssertEqual(notes.filter { $0.contains("scores read back, nothing retrained") }.count, 2, notes.joined(separator: "\n"))
        XCTAssertFalse(notes.contains { $0.contains("steps") && $0.hasPrefix("task ") }, "no task trained again: \(notes)")
    }
}
