// The forgetting experiment's report: a Markdown table per task (task score before → after, each retention
// task's score after and its retained fraction, as means over seeds with a bootstrap interval when there are
// several) and one CSV with a row per run and every number, BLEU and ROUGE of the retention suite included.
import Foundation
import SecuraEval

struct ForgettingTables {
    /// The base model's scores per seed.
    let bases: [UInt64: BaseScores]
    let records: [ForgettingRecord]
    let options: ForgettingSettings
    let wallSeconds: Double

    /// The first seed's base (names and counts are the same for every seed).
    var base: BaseScores { bases[options.seeds[0]] ?? bases.values.first! }
    var suiteNames: [String] { base.suite.map(\.name) }
    /// Metrics of the retention suite reported beside each task's primary one (the paper's BLEU/ROUGE).
    static let textMetrics = ["bleu_word", "rouge1", "rougeL"]

    func baseOf(_ r: ForgettingRecord) -> BaseScores { bases[r.seed ?? options.seeds[0]] ?? base }

    /// Primary-metric retention of each suite task (after / before its seed's base; nil when before is 0),
    /// and the suite means before and after.
    func retention(_ r: ForgettingRecord) -> (perTask: [Double?], meanRetained: Double?, meanBefore: Double, meanAfter: Double) {
        let b = baseOf(r)
        var per: [Double?] = []
        for t in b.suite {
            let a = r.suite.first { $0.name == t.name }?.primary ?? .nan
            per.append(t.primary > 0 ? a / t.primary : nil)
        }
        let known = per.compactMap { $0 }
        let before = b.suite.map(\.primary), after = b.suite.map { t in r.suite.first { $0.name == t.name }?.primary ?? .nan }
        return (per, known.isEmpty ? nil : known.reduce(0, +) / Double(known.count),
                before.reduce(0, +) / Double(max(1, before.count)), after.reduce(0, +) / Double(max(1, after.count)))
    }

    /// The runs of `method` on `task`, one per seed.
    func runs(task: String, method: String) -> [ForgettingRecord] { records.filter { $0.task == task && $0.method == method } }

    /// Mean over seeds, with a 95 % bootstrap interval of the mean when there are several values.
    func cell(_ values: [Double?]) -> String {
        let xs = values.compactMap { $0 }.filter { !$0.isNaN }
        guard !xs.isEmpty else { return "—" }
        let mean = String(format: "%.3f", xs.reduce(0, +) / Double(xs.count))
        guard xs.count > 1, let (low, high) = Bootstrap.interval(xs) else { return mean }
        return mean + String(format: " [%.3f, %.3f]", low, high)
    }

    func markdown() -> String {
        let o = options
        var lines: [String] = []
        let seeds = o.seeds.map(String.init).joined(separator: ", ")
        lines.append("# Forgetting experiment")
        lines.append("")
        lines.append("Model `\(URL(fileURLWithPath: o.model).lastPathComponent)`; \(o.steps) steps, global batch \(o.batchSize), "
                     + "lr \(ForgettingExperiment.number(o.lr)) (unless a method sets its own), max length \(o.maxLength), "
                     + "seed\(o.seeds.count > 1 ? "s" : "") \(seeds), CABR init \(o.cabrInit.rawValue); "
                     + "validation loss on 20 held-out examples; scoring \(o.mode.rawValue); "
                     + "at most \(o.taskLimit) held-out task records and \(o.suiteLimit) records per retention task. "
                     + (o.seeds.count > 1 ? "Cells are means over the seeds with a 95 % bootstrap interval of the mean in brackets. " : "")
                     + String(format: "Wall time of this invocation %.0f s (runs already done are read back, not redone).", wallSeconds))
        lines.append("")
        lines.append("Retention suite (primary metric of each; base model):")
        lines.append("")
        lines.append("| retention task | metric | records | base score |")
        lines.append("|---|---|---|---|")
        for (i, t) in base.suite.enumerated() {
            lines.append("| \(t.name) | \(t.primaryMetric) | \(t.count) | \(cell(o.seeds.map { bases[$0]?.suite[i].primary })) |")
        }
        let methods = o.methods.map(\.name)
        for (ti, task) in base.tasks.enumerated() {
            lines.append("")
            lines.append("## \(task.name) (\(task.primaryMetric), \(task.count) held-out records; base \(cell(o.seeds.map { bases[$0]?.tasks[ti].primary })))")
            lines.append("")
            lines.append("| method | task score | " + suiteNames.map { "\($0) (retained)" }.joined(separator: " | ")
                         + " | suite mean (base \(cell(o.seeds.map { s in bases[s].map { Self.mean($0.suite.map(\.primary)) } }))) | mean retained | train s | eval s |")
            lines.append("|---|---|" + String(repeating: "---|", count: suiteNames.count) + "---|---|---|---|")
            for method in methods {
                let rs = runs(task: task.name, method: method)
                guard !rs.isEmpty else { continue }
                let rets = rs.map(retention)
                let cells = base.suite.enumerated().map { i, b in
                    "\(cell(rs.map { r in r.suite.first { $0.name == b.name }?.primary })) (\(cell(rets.map { $0.perTask[i] })))"
                }
                lines.append("| \(method) | \(cell(rs.map { $0.taskResult.primary })) | " + cells.joined(separator: " | ")
                             + " | \(cell(rets.map(\.meanAfter))) | \(cell(rets.map(\.meanRetained))) | "
                             + String(format: "%.0f | %.0f", Self.mean(rs.map(\.trainSeconds)), Self.mean(rs.map(\.evalSeconds))) + " |")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(max(1, xs.count)) }

    func csv() -> String {
        var header = ["task", "method", "seed", "lr", "steps", "task_metric", "task_before", "task_after"]
        for n in suiteNames {
            header += ["\(n)_before", "\(n)_after", "\(n)_retained"] + Self.textMetrics.map { "\(n)_\($0)_after" }
        }
        header += ["suite_mean_before", "suite_mean_after", "mean_retained", "train_seconds", "eval_seconds", "weight_movement",
                   "final_loss"]
        var lines = [header.joined(separator: ",")]
        for r in records {
            let b = baseOf(r)
            let before = b.tasks.first { $0.name == r.task }?.primary ?? .nan
            var row = [r.task, "\"\(r.method)\"", r.seed.map(String.init) ?? "", ForgettingExperiment.number(r.lr), "\(r.steps)",
                       r.taskResult.primaryMetric, g(before), g(r.taskResult.primary)]
            let ret = retention(r)
            for (i, t) in b.suite.enumerated() {
                let after = r.suite.first { $0.name == t.name }
                row += [g(t.primary), g(after?.primary ?? .nan), g(ret.perTask[i] ?? .nan)]
                row += Self.textMetrics.map { g(after?.metrics[$0] ?? .nan) }
            }
            row += [g(ret.meanBefore), g(ret.meanAfter), g(ret.meanRetained ?? .nan), g(r.trainSeconds), g(r.evalSeconds),
                    g(r.weightMovement ?? .nan), g(r.finalLoss ?? .nan)]
            lines.append(row.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    func g(_ x: Double) -> String { x.isNaN ? "" : String(format: "%.6g", x) }
}

/// A percentile bootstrap interval of the mean: 2,000 resamples with replacement, drawn by a fixed-seed
/// generator so a report is reproducible.
enum Bootstrap {
    static func interval(_ xs: [Double], level: Double = 0.95, resamples: Int = 2000) -> (Double, Double)? {
        guard xs.count > 1 else { return nil }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {   // splitmix64
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(xs.count))
        }
        var means: [Double] = []
        means.reserveCapacity(resamples)
        for _ in 0..<resamples {
            var sum = 0.0
            for _ in 0..<xs.count { sum += xs[next()] }
            means.append(sum / Double(xs.count))
        }
        means.sort()
        let tail = (1 - level) / 2
        let low = means[Int((tail * Double(resamples)).rounded(.down))]
        let high = means[min(resamples - 1, Int(((1 - tail) * Double(resamples)).rounded(.down)))]
        return (low, high)
    }
}
