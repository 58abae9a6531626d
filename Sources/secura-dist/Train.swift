// `secura-dist train`: fine-tune a model on a task with a method, single-process or under mpirun.
import ArgumentParser
import Foundation
import SecuraAdapters
import SecuraData
import SecuraDistributed
import SecuraModel
import SecuraMPI
import SecuraTrain

extension LRScheduleKind: ExpressibleByArgument {}
extension NaNPolicy: ExpressibleByArgument {}

struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fine-tune a model with SECURA or a compared method.",
        discussion: """
            Example: secura-dist train --model SmolLM2.gguf --data task.json --method secura-m1 --steps 100 --output run1
            --config FILE reads a TOML file whose keys are these long flags (flags on the command line win).
            Writes OUTPUT/metrics.jsonl, OUTPUT/checkpoints/step-N/, and the final state in OUTPUT/adapter/
            (plus OUTPUT/adapter-peft/ for lora, dora and i-lora without --imsm; an IMSM run's gate is in OUTPUT/adapter).
            """)

    @Option(help: "A TOML file of flags (keys are the long flag names); command-line flags override it.")
    var config: String?

    @Option(help: "The model: a GGUF file or a Hugging Face folder.")
    var model: String

    @Option(help: "Task data: JSON Lines ({\"input\",\"output\"} or {\"messages\"}) or a BIG-bench task.json.")
    var data: String

    @Option(help: "Output folder (checkpoints, metrics, final adapter state).")
    var output: String

    @OptionGroup var method: MethodOptions

    @Option(help: "Optimizer steps.")
    var steps = 100

    @Option(help: "Global batch size in sequences per optimizer step (over all ranks).")
    var batchSize = 8

    @Option(help: "Sequences per forward pass on a rank (gradient accumulation covers the rest of its share).")
    var microBatch = 1

    @Option(help: "Peak learning rate.")
    var lr: Double = 1e-4

    @Option(help: "Learning-rate schedule after warmup: constant, linear, cosine.")
    var schedule: LRScheduleKind = .constant

    @Option(help: "Linear warmup steps.")
    var warmup = 0

    @Option(help: "AdamW decoupled weight decay.")
    var weightDecay: Float = 0.01

    @Option(help: "Clip gradients to this global L2 norm (0 disables clipping).")
    var clip: Double = 1.0

    @Option(help: "Seed for data order, splits, dropout and initialisation.")
    var seed: UInt64 = 42

    @Option(help: "Fraction of the data used for training; the rest is the validation/test split (9:1 by default).")
    var split: Double = 0.9

    @Option(help: "Longest sequence in tokens; longer examples are cut at the end (and counted).")
    var maxLength = 512

    @Flag(inversion: .prefixedNo, help: "Activation recomputation: keep only each layer's input and re-run the layer in the backward pass. Trades about one extra forward per step (~+33 % FLOPs) for the activation memory of one layer; results are bit-identical.")
    var recompute = false

    @Flag(inversion: .prefixedNo, help: "Render examples with the model's chat template.")
    var chat = true

    @OptionGroup var template: ChatTemplateOptions

    @Flag(inversion: .prefixedNo, help: "Skip and count malformed data lines instead of stopping at the first.")
    var skipBadLines = false

    @Option(help: "Validation loss every this many steps (0: at the start and the end only).")
    var evalEvery = 0

    @Option(help: "Compute the validation loss on at most this many held-out examples (default: all of them).")
    var validationLimit: Int?

    @Option(help: "Checkpoint every this many steps (0: only at the end).")
    var saveEvery = 0

    @Option(help: "Resume from a checkpoint folder, or 'auto' for the newest one in OUTPUT/checkpoints.")
    var resume: String?

    @Option(help: "Start LoRA/DoRA from a PEFT adapter folder (adapter_config.json + adapter_model.safetensors).")
    var initAdapter: String?

    @Option(help: "When reduced gradients hold NaN/Inf: skip (all ranks skip the step) or abort.")
    var onNan: NaNPolicy = .skip

    @Option(help: "Metrics JSON Lines file (default OUTPUT/metrics.jsonl).")
    var metrics: String?

    @Option(help: "Print a progress line every this many steps.")
    var logEvery = 1

    @Option(help: "Consistency guard: every this many steps, compare a checksum of the trainable values and merged weights across ranks; a mismatch stops the job (0 disables).")
    var checkEvery = 10

    @OptionGroup var memoryCheck: MemoryCheckOptions

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard steps >= 1, batchSize >= 1, microBatch >= 1, maxLength >= 2, logEvery >= 1 else {
            throw ValidationError("--steps, --batch-size, --micro-batch and --log-every must be at least 1, --max-length at least 2")
        }
        guard validationLimit.map({ $0 >= 1 }) ?? true else { throw ValidationError("--validation-limit must be at least 1") }
        guard lr > 0, split > 0, split <= 1, warmup >= 0, evalEvery >= 0, saveEvery >= 0, clip >= 0, checkEvery >= 0 else {
            throw ValidationError("--lr must be positive, --split in (0, 1], --warmup/--eval-every/--save-every/--clip non-negative")
        }
    }

    func run() throws {
        if let config {
            // Re-parse with the file's flags first, so the command line's own flags win.
            let fileArgs = try ConfigFile.arguments(config)
            let all = CommandLine.arguments
            let mine = Array(all.drop { $0 != "train" }.dropFirst())
            var merged: Train
            do {
                merged = try Train.parse(fileArgs + mine.filter { $0 != "--config" && $0 != config })
            } catch {
                FileHandle.standardError.write(Data("secura-dist: error: \(Train.message(for: error)) (with the keys of \(config))\n".utf8))
                throw ExitCode.failure
            }
            merged.config = nil
            try merged.run()
            return
        }
        try runReportingErrors(runtime) { comm in try TrainingRun(options: self, comm: comm).run() }
    }
}
