// The scores of one task: every metric that applies, averaged over records, plus the "primary" metric
// that the task's paper reports (used for the retained fraction in the forgetting experiment).
import Foundation
import SecuraData
import SecuraMetrics

/// One record's prediction and its gold answers.
public struct RecordResult: Codable, Sendable {
    public let origin: String
    public let prediction: String
    public let golds: [String]
}

/// Metrics of one task.
public struct TaskResult: Codable, Sendable {
    public let name: String
    public let path: String
    public let part: String
    public let mode: String
    public let count: Int
    /// Metric name → value (means over records; Matthews correlation over the whole task).
    public let metrics: [String: Double]
    /// The metric the task is judged by (a key of `metrics`).
    public let primaryMetric: String
    public let seconds: Double
    public let records: [RecordResult]

    public var primary: Double { metrics[primaryMetric] ?? .nan }

    /// Scores `predictions` (one per record of `task`, in order).
    public init(task: EvalTask, predictions: [String], mode: ScoringMode, seconds: Double) {
        precondition(predictions.count == task.records.count, "one prediction per record")
        name = task.name
        path = task.path
        part = task.part.rawValue
        self.mode = mode.rawValue
        count = predictions.count
        self.seconds = seconds
        records = zip(task.records, predictions).map { RecordResult(origin: $0.origin, prediction: $1, golds: $0.answers) }
        let kind = TaskKind.of(task)
        metrics = Self.score(task.records, predictions, kind: kind)
        primaryMetric = kind.primaryMetric
    }

    static func score(_ records: [DataRecord], _ predictions: [String], kind: TaskKind) -> [String: Double] {
        var sums: [String: Double] = [:]
        func add(_ key: String, _ value: Double) { sums[key, default: 0] += value }
        for (record, prediction) in zip(records, predictions) {
            let golds = record.answers
            add("exact_match", AnswerMatching.exactMatch(prediction: prediction, golds: golds))
            add("contains_answer", AnswerMatching.containsAnswer(prediction: prediction, golds: golds))
            add("token_f1", AnswerMatching.tokenF1(prediction: prediction, golds: golds))
            add("bleu_char", BLEU.characterLevel(hypothesis: prediction, references: golds))
            add("bleu_word", BLEU.wordLevel(hypothesis: prediction, references: golds))
            add("rouge1", golds.map { ROUGE.rouge1(prediction: prediction, target: $0) }.max() ?? 0)
            add("rougeL", golds.map { ROUGE.rougeL(prediction: prediction, target: $0) }.max() ?? 0)
            if !record.choices.isEmpty {
                add("mc_accuracy", MultipleChoice.accuracy(prediction: prediction, gold: golds.first ?? "",
                                                           choices: record.choices))
            }
            if kind == .gsm8k {
                add("gsm8k_accuracy", GSM8K.accuracy(prediction: prediction, gold: golds.first ?? ""))
            }
        }
        let n = Double(max(1, records.count))
        var out = sums.mapValues { $0 / n }
        if kind == .yesNo {
            let labels = records.map { YesNo.label($0.answers.first ?? "") ?? false }
            let predicted = predictions.map { YesNo.label($0) }
            // An answer that is neither yes nor no counts as the wrong label.
            out["mcc"] = MatthewsCorrelation.coefficient(labels: labels, predictions: zip(predicted, labels).map { $0 ?? !$1 })
            out["yes_no_accuracy"] = Double(zip(predicted, labels).filter { $0 == $1 }.count) / n
        }
        return out
    }
}

/// What kind of answers a task has, which decides its primary metric.
public enum TaskKind: String, Codable, Sendable {
    case multipleChoice, gsm8k, yesNo, shortAnswer, longText

    public static func of(_ task: EvalTask) -> TaskKind {
        if task.name.lowercased().contains("gsm8k") { return .gsm8k }
        if task.records.contains(where: { !$0.choices.isEmpty }) { return .multipleChoice }
        let golds = task.records.compactMap(\.answers.first)
        if !golds.isEmpty, golds.allSatisfy({ YesNo.label($0) != nil }) { return .yesNo }
        let words = golds.map { $0.split(whereSeparator: \.isWhitespace).count }
        return Double(words.reduce(0, +)) / Double(max(1, words.count)) > 6 ? .longText : .shortAnswer
    }

    /// GSM8K: final-number accuracy; multiple choice: choice accuracy; yes/no: accuracy of the label;
    /// short answers: exact match; long text: ROUGE-L.
    public var primaryMetric: String {
        switch self {
        case .gsm8k: return "gsm8k_accuracy"
        case .multipleChoice: return "mc_accuracy"
        case .yesNo: return "yes_no_accuracy"
        case .shortAnswer: return "exact_match"
        case .longText: return "rougeL"
        }
    }
}

/// "yes"/"no" answers (after lower-casing and trimming punctuation); nil for anything else.
public enum YesNo {
    public static func label(_ text: String) -> Bool? {
        let first = text.lowercased().split(whereSeparator: { !$0.isLetter }).first.map(String.init)
        switch first {
        case "yes": return true
        case "no": return false
        default: return nil
        }
    }
}
