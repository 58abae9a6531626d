// The results of an evaluation run (what `eval --output` writes) and their Markdown table.
import Foundation

/// Every task's scores for one model (+ adapter).
public struct EvalResults: Codable, Sendable {
    public let model: String
    public let adapter: String?
    public let mode: String
    public let tasks: [TaskResult]

    public init(model: String, adapter: String?, mode: String, tasks: [TaskResult]) {
        self.model = model
        self.adapter = adapter
        self.mode = mode
        self.tasks = tasks
    }

    /// The task named `name`, if evaluated.
    public func task(_ name: String) -> TaskResult? { tasks.first { $0.name == name } }
}

public enum EvalTable {
    /// Metrics shown in tables, in this order, when a task has them.
    public static let columns = ["exact_match", "contains_answer", "token_f1", "mc_accuracy", "yes_no_accuracy", "mcc",
                                 "gsm8k_accuracy", "bleu_char", "bleu_word", "rouge1", "rougeL"]

    /// One row per task: records, primary metric, then every metric in `columns`.
    public static func markdown(_ tasks: [TaskResult]) -> String {
        var lines = ["| task | part | records | primary | " + columns.joined(separator: " | ") + " | seconds |",
                     "|---|---|---|---|" + String(repeating: "---|", count: columns.count) + "---|"]
        for t in tasks {
            let cells = columns.map { t.metrics[$0].map { String(format: "%.4f", $0) } ?? "" }
            lines.append("| \(t.name) | \(t.part) | \(t.count) | \(t.primaryMetric) \(String(format: "%.4f", t.primary)) | "
                         + cells.joined(separator: " | ") + " | " + String(format: "%.1f", t.seconds) + " |")
        }
        return lines.joined(separator: "\n")
    }
}
