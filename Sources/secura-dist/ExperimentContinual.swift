// `secura-dist experiment continual`: the SECURA paper's experiment 3 at any scale. Each method trains the
// tasks in order, fused into the model at every task switch (or, with --no-fuse-at-task-end, carrying one
// adapter and its optimizer state through the tasks); after each task the model is scored on
// every task of the sequence and on the retention suite (with --eval-every, also every that many steps inside
// each task). Results: OUTPUT/results.md, results.csv, results.json (accuracy matrices, average, BWT, FWT,
// forgetting, retention-suite means), one folder per method and task. An interrupted experiment continues where it stopped.
import ArgumentParser
import Foundation
import SecuraAdapters
import SecuraEval
import SecuraRun

struct Continual: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train a sequence of tasks with each method (fused at every task switch unless --no-fuse-at-task-end); score every task and the retention suite after each.",
        discussion: """
            Example: secura-dist experiment continual --model SmolLM2.gguf --tasks a.json,b.json,c.json \
            --methods full,lora,secura-m1 --steps-per-task 50 --lr 1e-4 --output results/continual
            Strategies are per-method settings: full is SEQ; full@ewc-lambda=1e4,ewc-samples=200 adds EWC;             lora@replay-size=1000,replay-ratio=0.25 adds experience replay. Plots: launch/plot-continual.sh OUTPUT.
            """)

    @OptionGroup var experiment: ExperimentOptions

    @Option(help: "Task files in training order, comma-separated (BIG-bench task.json or JSON Lines).")
    var tasks: String

    @Option(help: "Comma-separated methods, with per-method settings after @ as in experiment forgetting (e.g. full@lr=1e-5,lora@lr=1e-3; EWC: full@ewc-lambda=L,ewc-samples=N, or an adapter method with --no-fuse-at-task-end; replay: METHOD@replay-size=K,replay-ratio=R).")
    var methods = "full,lora,cur-lora,i-lora,secura-m1,secura-m2"

    @Option(help: "Optimizer steps per task (1…10⁹).")
    var stepsPerTask = 50

    @Option(help: "Learning rate of every run (the paper: 1e-5).")
    var lr: Double = 1e-5

    @Option(help: "Seed of training and of each task's held-out split.")
    var seed: UInt64 = 42

    @Option(help: "At most this many records per retention task.")
    var suiteLimit = 50

    @Option(help: "At most this many held-out records per task of the sequence.")
    var taskLimit = 50

    @Option(help: "Also score every task and the retention suite every this many steps inside each task (0: after each task only; 0…10⁹). Each run then keeps a checkpoint at those steps.")
    var evalEvery = 0

    @Option(help: "CABR's A for the CABR-family methods: svd or slice.")
    var cabrInit: CABRInit = .slice

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(
        "Fuse each method's run into the model at every task's end (on by default; the paper's setting).",
        discussion: "--no-fuse-at-task-end carries one adapter through the tasks instead (sequential PEFT): task k+1 starts on the original model from task k's whole final state, the adapter values together with AdamW's moments and step count (as if one long run were resumed on a new data set; only the step counter, the data position and the lr schedule start again), the method's own tensors (I-LoRA's EMA copy, SECURA-M2's long pairs) and SECURA-M1's merge masters. With full the trained weights are the same either way: fusion restarts AdamW at every task, no fusion keeps its moments. Results go to METHOD-lrLR-unfused folders."))
    var fuseAtTaskEnd = true

    @OptionGroup var runtime: RuntimeOptions

    var taskList: [String] { tasks.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

    func validate() throws {
        guard !taskList.isEmpty else { throw ValidationError("--tasks: give at least one task file") }
        guard (0...1_000_000_000).contains(evalEvery) else { throw ValidationError("--eval-every must be in 0…10⁹") }
        guard (1...1_000_000_000).contains(stepsPerTask), experiment.batchSize >= 1, lr > 0, suiteLimit >= 1, taskLimit >= 1,
              experiment.maxLength >= 2 else {
            throw ValidationError("--steps-per-task, --batch-size, --suite-limit and --task-limit must be at least 1, --lr positive, --max-length at least 2")
        }
        do {
            _ = try MethodSpec.list(methods)
        } catch let error as RunSettingError {
            throw ValidationError(error.flagDescription)
        }
    }

    func settings() throws -> ContinualSettings {
        var s = ContinualSettings(model: experiment.model, tasks: taskList, methods: try MethodSpec.list(methods),
                                  suiteFiles: experiment.suiteFiles, output: experiment.output)
        s.stepsPerTask = stepsPerTask
        s.batchSize = experiment.batchSize
        s.lr = lr
        s.seed = seed
        s.maxLength = experiment.maxLength
        s.suiteLimit = suiteLimit
        s.taskLimit = taskLimit
        s.evalEvery = evalEvery
        s.cabrInit = cabrInit
        s.mode = experiment.mode
        s.fuseAtTaskEnd = fuseAtTaskEnd
        return s
    }

    func run() throws {
        try runReportingErrors(runtime) { comm in
            let markdown = try ContinualExperiment(try settings(), comm: comm, solvers: svdSolvers(comm),
                                                   events: RunPrinter(comm: comm).callAsFunction).run()
            let say = RootPrinter(comm: comm)
            say(markdown)
            say("results in \(experiment.output)/results.md, results.csv and results.json")
        }
    }
}
