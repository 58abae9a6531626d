// The retention suite: held-out tasks of general ability, evaluated before and after fine-tuning to
// measure forgetting (both papers' protocol). The default set is four GLUE/QA test files.
import Foundation

public enum RetentionSuite {
    /// The default suite's files, by name (file names without ".jsonl").
    public static let defaultNames = ["gsm8k_test", "multirc_test", "mrpc_test", "ropes_test"]

    /// Where the default suite is looked for: `$SECURA_DATA/glue-qa` when set, else `../shared/data/glue-qa`.
    public static var defaultDirectory: String {
        if let root = ProcessInfo.processInfo.environment["SECURA_DATA"], !root.isEmpty { return root + "/glue-qa" }
        return "../shared/data/glue-qa"
    }

    /// Paths of `names` in `directory`.
    public static func files(in directory: String, names: [String] = defaultNames) -> [String] {
        names.map { URL(fileURLWithPath: directory).appendingPathComponent($0 + ".jsonl").path }
    }

    /// After / before for each metric both have; nil where the before value is 0.
    public static func retained(before: TaskResult, after: TaskResult) -> [String: Double] {
        var out: [String: Double] = [:]
        for (key, b) in before.metrics where b != 0 {
            if let a = after.metrics[key] { out[key] = a / b }
        }
        return out
    }
}
