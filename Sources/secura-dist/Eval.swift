// `secura-dist eval MODEL [--adapter DIR] --data FILE...`: score a model (with or without an adapter)
// on task files, in generate or teacher-forced mode, with every metric that applies to each task.
// Under mpirun the records are sharded over ranks and gathered on rank 0 (identical results for any N);
// the work is the library's `Evaluation`.
import ArgumentParser
import Foundation
import SecuraData
import SecuraDistributed
import SecuraEval
import SecuraModel
import SecuraRun

extension ScoringMode: ExpressibleByArgument {}
extension EvalPart: ExpressibleByArgument {}

/// The flags that choose and score records.
struct EvalOptions: ParsableArguments {
    @Option(help: "generate: greedy decoding after the prompt; teacher-forced: feed the gold answer and decode the argmax at each answer position (the SECURA paper's protocol).")
    var mode: ScoringMode = .teacherForced

    @Option(help: "Records to score: auto (the held-out split of a task file, all of a *_test.jsonl file), test, train or all.")
    var part: EvalPart = .auto

    @Option(help: "Train fraction of the train/test split (as train --split).")
    var split: Double = 0.9

    @Option(help: "Seed of the train/test split (as train --seed).")
    var seed: UInt64 = 42

    @Option(help: "At most this many records per file.")
    var limit: Int?

    @Option(help: "Most new tokens per answer in generate mode.")
    var maxNewTokens = 32

    @Option(help: "Longest prompt + answer in tokens (longer prompts lose their start).")
    var maxLength = 512

    @Flag(inversion: .prefixedNo, help: "Render records with the model's chat template (as train --chat).")
    var chat = true

    @OptionGroup var template: ChatTemplateOptions

    func validate() throws {
        guard split > 0, split <= 1 else { throw ValidationError("--split must be in (0, 1]") }
        guard limit.map({ $0 >= 1 }) ?? true else { throw ValidationError("--limit must be at least 1") }
        guard maxNewTokens >= 1, maxLength >= 2 else {
            throw ValidationError("--max-new-tokens must be at least 1 and --max-length at least 2")
        }
    }

    /// The library's evaluation settings.
    var settings: EvalSettings {
        var e = EvalSettings()
        e.mode = mode
        e.part = part
        e.trainFraction = split
        e.seed = seed
        e.limit = limit
        e.maxNewTokens = maxNewTokens
        e.prompt = template.settings
        e.prompt.chat = chat
        e.prompt.maxLength = maxLength
        return e
    }
}

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Score a model, with or without an adapter, on task files (metrics per task).",
        discussion: """
            Metrics: exact match, contains-answer, token F1, BLEU (NLTK sentence_bleu, smoothing method4; \
            character and word n-grams), ROUGE-1 and ROUGE-L F (rouge-score with its Porter stemmer); plus \
            multiple-choice accuracy for tasks with choices, Matthews correlation for yes/no tasks, and \
            final-number accuracy for GSM8K. Each task's "primary" metric is the one its paper reports.
            """)

    @Argument(help: "A GGUF file or a Hugging Face folder.")
    var model: String

    @Option(help: "An adapter: a folder written by train (OUTPUT/adapter or a checkpoint) or a PEFT LoRA/DoRA folder.")
    var adapter: String?

    @Option(parsing: .upToNextOption, help: "Task files (BIG-bench task.json or JSON Lines); several allowed.")
    var data: [String] = []

    @Flag(help: "Add the retention suite (gsm8k_test, multirc_test, mrpc_test, ropes_test from --suite-dir).")
    var suite = false

    @Option(help: "Folder of the retention suite's files.")
    var suiteDir = RetentionSuite.defaultDirectory

    @OptionGroup var eval: EvalOptions

    @Option(help: "Write every task's metrics and predictions to this JSON file.")
    var output: String?

    @Flag(help: "Print the results as one JSON object instead of a table.")
    var json = false

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard !data.isEmpty || suite else { throw ValidationError("give --data FILE... and/or --suite") }
    }

    func run() throws {
        try runReportingErrors(runtime) { comm in
            let say = RootPrinter(comm: comm)
            let files = data + (suite ? RetentionSuite.files(in: suiteDir) : [])
            // With --json, progress goes to standard error so standard output is exactly one JSON object.
            let log: (String) -> Void = json
                ? { line in if comm.isRoot { FileHandle.standardError.write(Data((line + "\n").utf8)) } }
                : { say($0) }
            let results = try Evaluation(eval.settings, comm: comm, note: log).run(modelPath: model, adapter: adapter, files: files)
            if json {
                say(try jsonLine(results))
            } else {
                say(EvalTable.markdown(results.tasks))
            }
            if let output, comm.isRoot {
                try Data((try jsonLine(results) + "\n").utf8).write(to: URL(fileURLWithPath: output), options: .atomic)
            }
        }
    }
}
