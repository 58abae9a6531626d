// `secura-dist experiment forgetting`: the SECURA paper's experiment 2 at any scale. The base model is
// scored on each task's held-out split and on the retention suite; then, for every task and method,
// the model is fine-tuned and scored again. Results: OUTPUT/results.md, OUTPUT/results.csv, one
// folder per run (training log, metrics, adapter, eval.json), and a bar chart when matplotlib is there.
// A run whose eval.json exists is not repeated, so an interrupted experiment continues where it stopped.
import ArgumentParser
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraEval
import SecuraModel
import SecuraRun

struct Experiment: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Multi-run experiments.", subcommands: [Forgetting.self, Continual.self])
}

struct Forgetting: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune with each method on each task; score the task and the retention suite before and after.",
        discussion: """
            Example: secura-dist experiment forgetting --model SmolLM2.gguf --task object_counting.json \
            --methods lora,secura-m1 --lr 1e-3 --steps 50 --output results/forgetting
            """)

    @OptionGroup var experiment: ExperimentOptions

    @Option(parsing: .upToNextOption, help: "Task files to fine-tune on (BIG-bench task.json or JSON Lines); several allowed.")
    var task: [String]

    @Option(help: ArgumentHelp("Comma-separated methods (lora, dora, cur-lora, i-lora, cabr-lora, secura-m1, secura-m2, full); add +imsm for IMSM (e.g. lora+imsm) and +imsm:no-query or +imsm:no-gate for its ablations, and @key=value,... for settings of that method alone (e.g. lora@lr=1e-2,secura-m1@lr=1e-5,merge-precision=bf16).",
                               discussion: "Per-method keys: \(MethodSpec.keys.joined(separator: ", ")) (train's flags of the same names)."))
    var methods = "lora,dora,cur-lora,i-lora,secura-m1,secura-m2"

    @Option(help: "Learning rate of every run.")
    var lr: Double = 1e-3

    @Option(help: "Optimizer steps per run.")
    var steps = 100

    @Option(help: "Seed of training and of the train/test split.")
    var seed: UInt64 = 42

    @Option(help: "Several seeds, comma-separated (e.g. 1,2,3): every run once per seed, tables with the mean and a 95 % bootstrap interval. Replaces --seed.")
    var seeds: String?

    @Option(help: "At most this many records per retention task.")
    var suiteLimit = 100

    @Option(help: "At most this many held-out records per fine-tuning task.")
    var taskLimit = 100

    @Option(help: "CABR's A for the CABR-family methods: svd (LAPACK/ScaLAPACK) or slice (the identity A = W[:r, :m], equal to the SVD's to ~3e-7 and much faster).")
    var cabrInit: CABRInit = .slice

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard !task.isEmpty else { throw ValidationError("give at least one --task FILE") }
        guard steps >= 1, experiment.batchSize >= 1, lr > 0, suiteLimit >= 1, taskLimit >= 1 else {
            throw ValidationError("--steps, --batch-size, --suite-limit and --task-limit must be at least 1, --lr positive")
        }
        do {
            _ = try MethodSpec.list(methods)
        } catch let error as RunSettingError {
            throw ValidationError(error.flagDescription)
        }
        _ = try seedList()
    }

    /// --seeds, else --seed.
    func seedList() throws -> [UInt64] {
        guard let seeds else { return [seed] }
        let list = seeds.split(separator: ",").map { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        guard !list.isEmpty, list.allSatisfy({ $0 != nil }), Set(list).count == list.count else {
            throw ValidationError("--seeds: '\(seeds)' is not a comma-separated list of distinct non-negative integers")
        }
        return list.map { $0! }
    }

    /// The experiment these flags describe.
    func settings() throws -> ForgettingSettings {
        var s = ForgettingSettings(model: experiment.model, tasks: task, methods: try MethodSpec.list(methods),
                                   suiteFiles: experiment.suiteFiles, output: experiment.output)
        s.lr = lr
        s.steps = steps
        s.batchSize = experiment.batchSize
        s.seeds = try seedList()
        s.maxLength = experiment.maxLength
        s.suiteLimit = suiteLimit
        s.taskLimit = taskLimit
        s.cabrInit = cabrInit
        s.mode = experiment.mode
        return s
    }

    func run() throws {
        try runReportingErrors(runtime) { comm in
            let markdown = try ForgettingExperiment(try settings(), comm: comm, solvers: svdSolvers(comm),
                                                    events: RunPrinter(comm: comm).callAsFunction).run()
            let say = RootPrinter(comm: comm)
            say(markdown)
            say("results in \(experiment.output)/results.md and results.csv; plot with: launch/plot-forgetting.sh \(experiment.output)")
        }
    }
}
