// The forgetting experiment's report: a Markdown table per task (task score before → after, each
// retention task's score after and its retained fraction) and one CSV with every number.
import Foundation
import SecuraEval

struct ForgettingTables {
    let base: BaseScores
    let records: [ForgettingRecord]
    let options: ForgettingSettings
    let wallSeconds: Double

    var suiteNames: [String] { base.suite.map(\.name) }

    /// Primary-metric retention of each suite task (after / before; nil when before is 0), and the
    /// suite means before and after.
    func retention(_ r: ForgettingRecord) -> (perTask: [Double?], meanRetained: Double?, meanBefore: Double, meanAfter: Double) {
        var per: [Double?] = []
        for b in base.suite {
            let a = r.suite.first { $0.name == b.name }?.primary ?? .nan
            per.append(b.primary > 0 ? a / b.primary : nil)
        }
        let known = per.compactMap { $0 }
        let before = base.suite.map(\.primary), after = base.suite.map { b in r.suite.first { $0.name == b.name }?.primary ?? .nan }
        return (per, known.isEmpty ? nil : known.reduce(0, +) / Double(known.count),
                before.reduce(0, +) / Double(max(1, before.count)), after.reduce(0, +) / Double(max(1, after.count)))
    }

    func f(_ x: Double?) -> String { x.map { $0.isNaN ? "—" : String(format: "%.3f", $0) } ?? "—" }

    func markdown() -> String {
        let o = options
        var lines: [String] = []
        lines.append("# Forgetting experiment")
        lines.append("")
        lines.append("Model `\(URL(fileURLWithPath: o.model).lastPathComponent)`; \(o.steps) steps, global batch \(o.batchSize), "
                     + "lr \(ForgettingExperiment.number(o.lr)), max length \(o.maxLength), seed \(o.seed), CABR init \(o.cabrInit.rawValue); "
                     + "validation loss on 20 held-out examples; scoring \(o.mode.rawValue); "
                     + "at most \(o.taskLimit) held-out task records and \(o.suiteLimit) records per retention task. "
                     + String(format: "Wall time of this invocation %.0f s (runs already done are read back, not redone).", wallSeconds))
        lines.append("")
        lines.append("Retention suite (primary metric of each; base model):")
        lines.append("")
        lines.append("| retention task | metric | records | base score |")
        lines.append("|---|---|---|---|")
        for t in base.suite { lines.append("| \(t.name) | \(t.primaryMetric) | \(t.count) | \(f(t.primary)) |") }
        for task in base.tasks {
            lines.append("")
            lines.append("## \(task.name) (\(task.primaryMetric), \(task.count) held-out records; base \(f(task.primary)))")
            lines.append("")
            lines.append("| method | task score | " + suiteNames.map { "\($0) (retained)" }.joined(separator: " | ")
                         + " | suite mean (base \(f(retentionBaseMean))) | mean retained | train s | eval s |")
            lines.append("|---|---|" + String(repeating: "---|", count: suiteNames.count) + "---|---|---|---|")
            for r in records where r.task == task.name {
                let ret = retention(r)
                let cells = base.suite.enumerated().map { i, b in
                    "\(f(r.suite.first { $0.name == b.name }?.primary)) (\(f(ret.perTask[i])))"
                }
                lines.append("| \(r.method) | \(f(r.taskResult.primary)) | " + cells.joined(separator: " | ")
                             + " | \(f(ret.meanAfter)) | \(f(ret.meanRetained)) | "
                             + String(format: "%.0f | %.0f", r.trainSeconds, r.evalSeconds) + " |")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    var retentionBaseMean: Double {
        base.suite.map(\.primary).reduce(0, +) / Double(max(1, base.suite.count))
    }

    func csv() -> String {
        var header = ["task", "method", "lr", "steps", "task_metric", "task_before", "task_after"]
        for n in suiteNames { header += ["\(n)_before", "\(n)_after", "\(n)_retained"] }
        header += ["suite_mean_before", "suite_mean_after", "mean_retained", "train_seconds", "eval_seconds"]
        var lines = [header.joined(separator: ",")]
        for r in records {
            let before = base.tasks.first { $0.name == r.task }?.primary ?? .nan
            var row = [r.task, r.method, ForgettingExperiment.number(r.lr), "\(r.steps)", r.taskResult.primaryMetric,
                       g(before), g(r.taskResult.primary)]
            let ret = retention(r)
            for (i, b) in base.suite.enumerated() {
                row += [g(b.primary), g(r.suite.first { $0.name == b.name }?.primary ?? .nan), g(ret.perTask[i] ?? .nan)]
            }
            row += [g(ret.meanBefore), g(ret.meanAfter), g(ret.meanRetained ?? .nan), g(r.trainSeconds), g(r.evalSeconds)]
            lines.append(row.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func g(_ x: Double) -> String { x.isNaN ? "" : String(format: "%.6g", x) }
}
