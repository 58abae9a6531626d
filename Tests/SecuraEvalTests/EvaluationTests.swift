// Evaluation pieces: which records a task scores (the same held-out split as training), the
// teacher-forced argmax alignment, task kinds and their primary metrics, and sharded predictions
// gathered in record order for any rank count.
import Foundation
import XCTest
import SecuraData
import SecuraDistributed
import SecuraEval
import TestSupport

final class EvaluationTests: XCTestCase {
    let sharedData = FixturePaths.sharedData("")

    func testTaskFileScoresTheSplitTrainingHeldOut() throws {
        let path = sharedData.appendingPathComponent("bigbench/object_counting.json").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: path), "../shared/data is not beside the checkout")
        let task = try EvalTask.load(path: path, seed: 42)
        let file = try DatasetLoader.read(path, skipBadLines: false)
        let heldOut = DatasetSplit.split(file.records, trainFraction: 0.9, seed: 42).test
        XCTAssertEqual(task.part, .test)
        XCTAssertEqual(task.records, heldOut)
        XCTAssertEqual(task.records.count, 100)
        XCTAssertEqual(try EvalTask.load(path: path, seed: 42, limit: 7).records, Array(heldOut.prefix(7)))
        XCTAssertEqual(TaskKind.of(task), .shortAnswer)

        let suite = sharedData.appendingPathComponent("glue-qa/mrpc_test.jsonl").path
        let mrpc = try EvalTask.load(path: suite, limit: 20)
        XCTAssertEqual(mrpc.part, .all)
        XCTAssertEqual(mrpc.records, Array(try DatasetLoader.read(suite, skipBadLines: false).records.prefix(20)))
        XCTAssertEqual(TaskKind.of(mrpc), .yesNo)
        let gsm = try EvalTask.load(path: sharedData.appendingPathComponent("glue-qa/gsm8k_test.jsonl").path, limit: 3)
        XCTAssertEqual(TaskKind.of(gsm).primaryMetric, "gsm8k_accuracy")
        let colours = try EvalTask.load(path: sharedData.appendingPathComponent("bigbench/reasoning_about_colored_objects.json").path)
        XCTAssertEqual(TaskKind.of(colours).primaryMetric, "mc_accuracy")
    }

    func testMissingFileIsAClearError() {
        XCTAssertThrowsError(try EvalTask.load(path: "/nonexistent/task.jsonl")) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/task.jsonl"), "\(error)")
        }
    }

    func testTeacherForcedArgmaxReadsTheRowBeforeEachAnswerToken() {
        // T = 5, V = 4; answer tokens at positions 3 and 4 → rows 2 and 3 decide them.
        let v = 4
        var logits = [Float](repeating: 0, count: 5 * v)
        logits[0 * v + 1] = 9   // row 0 (predicts position 1, not an answer)
        logits[2 * v + 3] = 2   // row 2 → token 3
        logits[3 * v + 0] = 1; logits[3 * v + 2] = 1   // row 3: a tie → the first index, 0
        logits[4 * v + 2] = 5   // row 4 predicts past the end: never read
        let mask = [false, false, false, true, true]
        let got = logits.withUnsafeBufferPointer { Predictor.answerArgmax(logits: $0.baseAddress!, vocab: v, answerMask: mask) }
        XCTAssertEqual(got, [3, 0])
    }

    func testYesNoScoresIncludeMatthewsCorrelation() throws {
        let records = ["yes", "no", "yes", "no"].enumerated().map { i, a in
            DataRecord(content: .promptAnswer(prompt: "q\(i)", answers: [a]), origin: "t:\(i + 1)")
        }
        let task = EvalTask(name: "t", path: "t.jsonl", part: .all, records: records)
        XCTAssertEqual(TaskKind.of(task), .yesNo)
        let perfect = TaskResult(task: task, predictions: ["Yes.", "no", "yes", "No, not"], mode: .generate, seconds: 0)
        XCTAssertEqual(perfect.metrics["mcc"]!, 1, accuracy: 1e-12)
        XCTAssertEqual(perfect.primary, 1)
        // A non-answer counts as the wrong label.
        let bad = TaskResult(task: task, predictions: ["maybe", "yes", "no", "no"], mode: .generate, seconds: 0)
        XCTAssertEqual(bad.metrics["yes_no_accuracy"]!, 0.25, accuracy: 1e-12)
        XCTAssertLessThan(bad.metrics["mcc"]!, 0)
    }

    func testShardedPredictionsComeBackInRecordOrderForAnyRankCount() throws {
        let records = (0..<11).map { "record \($0)" }
        for ranks in [1, 2, 3, 4] {
            let results = try InProcessWorld.run(ranks: ranks) { comm in
                try ShardedPredictions.run(records, comm: comm) { record in
                    "answer to \(record) on rank \(comm.rank)"
                }
            }
            for r in 0..<ranks {
                XCTAssertEqual(results[r].count, records.count)
                for (i, answer) in results[r].enumerated() {
                    XCTAssertEqual(answer, "answer to record \(i) on rank \(i % ranks)", "\(ranks) ranks")
                }
            }
        }
    }
}
