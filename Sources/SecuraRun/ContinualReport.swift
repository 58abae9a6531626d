// The continual experiment's report: per method, the accuracy matrix (primary metric of each task's held-out
// split after each trained task), average score, BWT, FWT and forgetting, and the retention suite's mean after
// each task; a long-format CSV with every score and a JSON summary per method.
import Foundation
import SecuraEval

/// One method's sequence: the scores after each trained task.
struct ContinualResult {
    let method: String
    let lr: Double
    let rows: [SequenceScores]
}

/// What results.json holds per method.
struct ContinualSummary: Codable {
    let method: String
    let lr: Double
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
            return ContinualSummary(method: r.method, lr: r.lr, tasks: base.tasks.map(\.name), accuracy: accuracy, base: b,
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
                     + "seed \(o.seed), max length \(o.maxLength); every run fused into the model at its task's end; scoring \(o.mode.rawValue), "
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
        return lines.joined(separator: "\n") + "\n"
    }

    func csv() -> String {
        var lines = ["method,lr,after_task_index,after_task,scored,kind,metric,score,base"]
        func g(_ x: Double) -> String { x.isNaN ? "" : String(format: "%.6g", x) }
        for r in results {
            for (i, row) in r.rows.enumerated() {
                for (kind, scored, before) in [("task", row.tasks, base.tasks), ("suite", row.suite, base.suite)] {
                    for (j, t) in scored.enumerated() {
                        lines.append(["\"\(r.method)\"", ForgettingExperiment.number(r.lr), "\(i + 1)", base.tasks[i].name, t.name, kind,
                                      t.primaryMetric, g(t.primary), g(before[j].primary)].joined(separator: ","))
                    }
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
