// `secura-dist train`: fine-tune a model on a task with a method, single-process or under mpirun.
import ArgumentParser
import Foundation
import SecuraAdapters
import SecuraData
import SecuraDistributed
import SecuraIO
import SecuraModel
import SecuraRun
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

    @Option(help: "A TOML file of flags (keys are the long flag names, model, data and output included); command-line flags override it.")
    var config: String?

    @Option(help: "The model: a GGUF file or a Hugging Face folder (required, here or in --config).")
    var model: String?

    @Option(help: "Task data: JSON Lines ({\"input\",\"output\"} or {\"messages\"}) or a BIG-bench task.json (required, here or in --config).")
    var data: String?

    @Option(help: "Output folder: checkpoints, metrics, final adapter state, summary.json (required, here or in --config).")
    var output: String?

    @OptionGroup var method: MethodOptions

    @Option(help: "Optimizer steps (1…10⁹).")
    var steps = 100

    @Option(help: "Global batch size in sequences per optimizer step over all ranks (1…1,048,576).")
    var batchSize = 8

    @Option(help: "Sequences per forward pass on a rank (1…65,536; gradient accumulation covers the rest of its share).")
    var microBatch = 1

    @Option(help: "Peak learning rate (positive, finite).")
    var lr: Double = 1e-4

    @Option(help: "Learning-rate schedule after warmup: constant, linear, cosine.")
    var schedule: LRScheduleKind = .constant

    @Option(help: "Linear warmup steps (0…10⁹).")
    var warmup = 0

    @Option(help: "AdamW decoupled weight decay (≥ 0, finite).")
    var weightDecay: Float = 0.01

    @Option(help: "Clip gradients to this global L2 norm (≥ 0, finite; 0 disables clipping).")
    var clip: Double = 1.0

    @Option(help: "Seed for data order, splits, dropout and initialisation.")
    var seed: UInt64 = 42

    @Option(help: "Fraction of the data used for training, in (0, 1]; the rest is the validation/test split (9:1 by default).")
    var split: Double = 0.9

    @Option(help: "Longest sequence in tokens (2…1,048,576); longer examples are cut at the end (and counted).")
    var maxLength = 512

    @Flag(inversion: .prefixedNo, help: "Activation recomputation: keep only each layer's input and re-run the layer in the backward pass. Trades about one extra forward per step (~+33 % FLOPs) for the activation memory of one layer; results are bit-identical.")
    var recompute = false

    @Flag(inversion: .prefixedNo, help: "Render examples with the model's chat template.")
    var chat = true

    @OptionGroup var template: ChatTemplateOptions

    @Flag(inversion: .prefixedNo, help: "Skip and count malformed data lines instead of stopping at the first.")
    var skipBadLines = false

    @Option(help: "Validation loss every this many steps (0…10⁹; 0: at the start and the end only).")
    var evalEvery = 0

    @Option(help: "Compute the validation loss on at most this many held-out examples (1…10⁹; default: 500, said when it cuts).")
    var validationLimit: Int?

    @Option(help: "Checkpoint every this many steps (0…10⁹; 0: only at the end).")
    var saveEvery = 0

    @Option(help: "Resume from a checkpoint folder, or 'auto' for the newest one in OUTPUT/checkpoints.")
    var resume: String?

    @Option(help: "Start LoRA/DoRA from a PEFT adapter folder (adapter_config.json + adapter_model.safetensors).")
    var initAdapter: String?

    @Option(help: "When reduced gradients hold NaN/Inf: skip (all ranks skip the step) or abort.")
    var onNan: NaNPolicy = .skip

    @Option(help: "Metrics JSON Lines file (default OUTPUT/metrics.jsonl).")
    var metrics: String?

    @Option(help: "Print a progress line every this many steps (1…10⁹).")
    var logEvery = 1

    @Option(help: "Consistency guard: every this many steps (0…10⁹), compare a checksum of the trainable values and merged weights across ranks; a mismatch stops the job (0 disables).")
    var checkEvery = 10

    @OptionGroup var memoryCheck: MemoryCheckOptions

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard config == nil else { return }   // checked once the file's keys are merged in
        for (value, flag) in [(model, "--model"), (data, "--data"), (output, "--output")] where value == nil {
            throw ValidationError("Missing expected argument '\(flag)' (give it on the command line or as a key of --config)")
        }
        do {
            try configuration().validate()
        } catch let error as RunSettingError {
            throw ValidationError(error.flagDescription)
        }
    }

    /// The run these flags describe (the one place where train's flags become library values).
    func configuration() throws -> TrainConfiguration {
        var data = DataSettings(path: self.data ?? "")
        data.trainFraction = split
        data.skipBadLines = skipBadLines
        data.validationLimit = validationLimit
        var out = OutputSettings(folder: output ?? "")
        out.metricsFile = metrics
        out.resume = resume
        var prompt = template.settings
        prompt.chat = chat
        prompt.maxLength = maxLength
        var o = OptimizerSettings()
        o.steps = steps
        o.batchSize = batchSize
        o.microBatch = microBatch
        o.lr = lr
        o.schedule = schedule
        o.warmup = warmup
        o.weightDecay = weightDecay
        o.clip = clip
        o.seed = seed
        o.onNaN = onNan
        o.recompute = recompute
        var cadence = CadenceSettings()
        cadence.evalEvery = evalEvery
        cadence.saveEvery = saveEvery
        cadence.logEvery = logEvery
        cadence.checkEvery = checkEvery
        var memory = MemorySettings()
        memory.limitGiB = memoryCheck.memoryLimit
        memory.skipCheck = memoryCheck.skipMemoryCheck
        return TrainConfiguration(model: model ?? "", data: data, output: out, prompt: prompt, method: try method.settings(),
                                  cabrSVD: method.cabrSVDSettings, initAdapter: initAdapter, optimizer: o, cadence: cadence,
                                  memory: memory)
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
                let message = FlagFile.shortenEchoes(Train.message(for: error), of: fileArgs)
                FileHandle.standardError.write(Data("secura-dist: error: \(message) (with the keys of \(config))\n".utf8))
                throw ExitCode.validationFailure
            }
            merged.config = nil
            try merged.run()
            return
        }
        let configuration = try configuration()
        try runReportingErrors(runtime) { comm in
            let printer = RunPrinter(comm: comm)
            try TrainingSession(configuration, comm: comm, solvers: svdSolvers(comm), events: printer.callAsFunction).run()
        }
    }
}
