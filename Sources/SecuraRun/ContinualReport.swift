// The continual experiment's report: per method, the accuracy matrix (primary metric of each task's held-out
// split after each trained task), average score, BWT, FWT and forgetting, and the retention suite's mean after
// each task (and every --eval-every steps inside the tasks); a long-format CSV with every score, the step of
// its task at which it was taken, and a JSON summary per method.
import Foundation
import SecuraEval

/// One method's sequence: the scores after each trained task.
struct ContinualResult {
    let method: String
    /// The sequence's folder under the experiment's output (METHOD-lrLR[-unfused]).
    let folder: String
    let lr: Double
    /// Optimizer steps of each task.
    let steps: Int
    /// Each task's run was fused into the model at its end (false: one adapter carried through the tasks).
    let fused: Bool
    let rows: [SequenceScores]
    /// Scores inside the tasks, in task then step order (empty without --eval-every).
    var midTask: [MidTaskScores] = []
}

/// What results.json holds per method.
struct ContinualSummary: Codable {
    let method: String
    /// The sequence's folder under the experiment's output, holding K-TASK/summary.json of each task's run.
    let folder: String
    let lr: Double
    /// Fusion at task end was on.
    let fused: Bool
    let tasks: [String]
    /// accuracy[i][j]: primary score on task j after training task i.
    let accuracy: [[Double]]
    let base: [Double]
    let metrics: ContinualMetrics
    /// Retention-suite mean (primary metrics) before training and after each task.
    let suiteMeans: [Double]
}

struct ContinualReport {
    let base: SequenceScores
    let results: [ContinualResult]
    let settings: ContinualSettings
    let wallSeconds: Double

    static func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(max(1, xs.count)) }

    func summaries() -> [ContinualSummary] {
        results.map { r in
            let accuracy = r.rows.map { $0.tasks.map(\.primary) }
            let b = base.tasks.map(\.primary)
            return ContinualSummary(method: r.method, folder: r.folder, lr: r.lr, fused: r.fused, tasks: base.tasks.map(\.name),
                                    accuracy: accuracy, base: b,
                                    metrics: ContinualMetrics(matrix: accuracy, base: b),
                                    suiteMeans: [Self.mean(base.suite.map(\.primary))] + r.rows.map { Self.mean($0.suite.map(\.primary)) })
        }
    }

    func f(_ x: Double?) -> String { x.map { $0.isNaN ? "—" : String(format: "%.3f", $0) } ?? "—" }

    func markdown() -> String {
        let o = settings
        let names = base.tasks.map(\.name)
        var lines = ["# Continual-learning experiment", "",
                     "Model `\(URL(fileURLWithPath: o.model).lastPathComponent)`; \(o.tasks.count) tasks in order (\(names.joined(separator: " → "))), "
                     + "\(o.stepsPerTask) steps each, global batch \(o.batchSize), lr \(ForgettingExperiment.number(o.lr)) (unless a method sets its own), "
                     + "seed \(o.seed), max length \(o.maxLength); "
                     + (o.fuseAtTaskEnd ? "fusion at task end on: every run fused into the model at its task's end"
                                        : "fusion at task end off: one adapter (with its AdamW moments) carried through the tasks on the original model")
                     + "; scoring \(o.mode.rawValue), "
                     + "at most \(o.taskLimit) held-out records per task and \(o.suiteLimit) per retention task. "
                     + String(format: "Wall time of this invocation %.0f s (sequences already scored are read back).", wallSeconds),
                     "", "| method | average (after the last task) | BWT | FWT | forgetting | retention suite: base → after each task |",
                     "|---|---|---|---|---|---|"]
        let all = summaries()
        for s in all {
            lines.append("| \(s.method) | \(f(s.metrics.average)) | \(f(s.metrics.backwardTransfer)) | \(f(s.metrics.forwardTransfer)) | "
                         + "\(f(s.metrics.forgetting)) | " + s.suiteMeans.map { f($0) }.joined(separator: " → ") + " |")
        }
        for s in all {
            lines += ["", "## \(s.method): accuracy matrix (row: after training task i; column: scored on task j)", "",
                      "| after \\ on | " + names.joined(separator: " | ") + " |",
                      "|---|" + String(repeating: "---|", count: names.count),
                      "| base | " + s.base.map { f($0) }.joined(separator: " | ") + " |"]
            for (i, row) in s.accuracy.enumerated() { lines.append("| \(i + 1). \(names[i]) | " + row.map { f($0) }.joined(separator: " | ") + " |") }
        }
        if results.contains(where: { !$0.midTask.isEmpty }) {
            lines += ["", "## Retention suite over the sequence (every \(o.evalEvery) steps; step counted from the first task's start)", "",
                      "| method | " + "base → each scored step" + " |", "|---|---|"]
            for r in results {
                lines.append("| \(r.method) | " + retentionCurve(r).map { "\($0.step): \(f($0.mean))" }.joined(separator: " → ") + " |")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The retention suite's mean at every scored point of `r`'s sequence: (0, base), then each mid-task and
    /// after-task score at its step counted from the start of the first task.
    func retentionCurve(_ r: ContinualResult) -> [(step: Int, mean: Double)] {
        var points = [(step: 0, mean: Self.mean(base.suite.map(\.primary)))]
        for (i, row) in r.rows.enumerated() {
            points += r.midTask.filter { $0.task == i }.map { (i * r.steps + $0.step, Self.mean($0.scores.suite.map(\.primary))) }
            points.append((step: (i + 1) * r.steps, mean: Self.mean(row.suite.map(\.primary))))
        }
        return points
    }

    /// One line per score: `after_task_index`/`after_task` is the task being (or just) trained and `step` the
    /// optimizer steps into it when scored (the task's steps for the scores after it; fewer with --eval-every);
    /// `fused` is whether fusion at task end was on.
    func csv() -> String {
        var lines = ["method,lr,after_task_index,after_task,scored,kind,metric,score,base,step,fused"]
        func g(_ x: Double) -> String { x.isNaN ? "" : String(format: "%.6g", x) }
        for r in results {
            for (i, row) in r.rows.enumerated() {
                let points = r.midTask.filter { $0.task == i }.map { ($0.step, $0.scores) } + [(r.steps, row)]
                for (step, scores) in points {
                    for (kind, scored, before) in [("task", scores.tasks, base.tasks), ("suite", scores.suite, base.suite)] {
                        for (j, t) in scored.enumerated() {
                            lines.append(["\"\(r.method)\"", ForgettingExperiment.number(r.lr), "\(i + 1)", base.tasks[i].name, t.name, kind,
                                          t.primaryMetric, g(t.primary), g(before[j].primary), "\(step)", "\(r.fused)"].joined(separator: ","))
                        }
                    }
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
