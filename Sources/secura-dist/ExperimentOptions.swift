// The flags `experiment forgetting` and `experiment continual` share with the same defaults and help: the
// model, the output folder, the batch and sequence sizes, the retention suite's files and the scoring mode.
// The flags whose defaults differ between the two (--methods, --lr, --seed, the limits, --cabr-init) stay
// with each command.
import ArgumentParser
import SecuraEval
import SecuraRun

/// The experiments' shared flags.
struct ExperimentOptions: ParsableArguments {
    @Option(help: "A GGUF file or a Hugging Face folder.")
    var model: String

    @Option(help: "Output folder.")
    var output: String

    @Option(help: "Global batch size per step.")
    var batchSize = 4

    @Option(help: "Longest training sequence in tokens.")
    var maxLength = 256

    @Option(help: "Retention suite file names (without .jsonl) in --suite-dir, comma-separated.")
    var suite = RetentionSuite.defaultNames.joined(separator: ",")

    @Option(help: "Folder of the retention suite's files.")
    var suiteDir = RetentionSuite.defaultDirectory

    @Option(help: "Scoring mode: teacher-forced (the paper's protocol) or generate.")
    var mode: ScoringMode = .teacherForced

    /// The retention suite's file paths: each --suite name in --suite-dir.
    var suiteFiles: [String] { RetentionSuite.files(in: suiteDir, names: suite.split(separator: ",").map(String.init)) }
}
