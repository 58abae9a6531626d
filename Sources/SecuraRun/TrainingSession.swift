// A training run as a library call: set up (memory preflight, model, data, adapters, CABR init, resume),
// then the steps with validation, checkpoints, consistency checks and metrics at the configured cadence,
// then the final state, OUTPUT/summary.json and the `finished` event. Collective: every rank calls it with
// the same configuration; rank 0 writes the files that exist once.
import Foundation
import SecuraAdapters
import SecuraData
import SecuraDistributed
import SecuraModel
import SecuraTensor
import SecuraTrain

/// The SVD solvers a run may use for CABR's initial A (they live in the MPI/LAPACK layer, which this
/// module does not link).
public struct SVDSolvers {
    /// A solver over all ranks (ScaLAPACK under MPI), and its name for the summary.
    public var collective: SVDSolver
    public var collectiveName: String
    /// A one-process solver (LAPACK) for matrices dealt to ranks, and its name.
    public var local: SVDSolver
    public var localName: String

    public init(collective: SVDSolver, collectiveName: String, local: SVDSolver, localName: String) {
        self.collective = collective
        self.collectiveName = collectiveName
        self.local = local
        self.localName = localName
    }
}

public struct TrainingSession {
    public let configuration: TrainConfiguration
    public let comm: Communicator
    /// nil: CABR's SVD initialisation is refused (slice initialisation and every other method still run).
    public let solvers: SVDSolvers?
    /// Receives every event, on every rank.
    public let events: (RunEvent) -> Void

    public init(_ configuration: TrainConfiguration, comm: Communicator, solvers: SVDSolvers?,
                events: @escaping (RunEvent) -> Void) {
        self.configuration = configuration
        self.comm = comm
        self.solvers = solvers
        self.events = events
    }

    /// Runs the training. `model`: a model already opened (and shared) for this job, e.g. by an
    /// experiment running several methods on one model; nil opens `configuration.model` after the memory
    /// preflight. Returns the summary (on every rank).
    @discardableResult
    public func run(model: ModelContext? = nil) throws -> TrainSummary {
        let c = configuration
        try c.validate()
        let out = URL(fileURLWithPath: c.output.folder)
        try Self.prepareOutput(out)
        let started = Date()
        let hosts = try describeRanks()
        let settings = try methodSettings()
        let context: ModelContext
        if let model {
            context = model
        } else {
            // The memory plan needs only the configuration and the file sizes: check it before any weight is read.
            let opened = try ModelContext.open(c.model)
            try checkMemory(opened.loaded, settings: settings)
            try opened.shareDequantised(comm: comm, note: note)
            context = opened
        }
        let data = try loadData(context)
        let initStart = Date()
        let cabrInit = CABRInitRun(settings: c.cabrSVD, modelPath: c.model, comm: comm, solvers: solvers, note: note)
        let prepared = try cabrInit.prepare(loaded: context.loaded, settings: settings)
        let collective = solvers?.collective ?? UnavailableSVD()
        let adapters = try AdapterSet(config: context.config, base: context.loaded.source, settings: settings, seed: c.optimizer.seed,
                                      solver: collective, comm: comm,
                                      log: { line in if settings.cabrInit == .svd && prepared.values.isEmpty { note("  " + line) } },
                                      initialA: prepared.values)
        let initSeconds = Date().timeIntervalSince(initStart)
        let initMethod = !settings.method.definition.usesCABRInit ? "none"
            : prepared.method ?? (settings.cabrInit == .svd ? (solvers?.collectiveName ?? "none") : "slice")
        if settings.method.definition.usesCABRInit {
            note("cabr init (\(initMethod)) of \(adapters.plans.count) matrices: " + String(format: "%.2f s", initSeconds))
        }
        cabrInit.store(prepared, adapters: adapters)
        if let initAdapter = c.initAdapter { try PEFTFormat.load(URL(fileURLWithPath: initAdapter), into: adapters) }
        describe(adapters, settings: settings)

        let trainer = try Trainer(adapters: adapters, options: trainingOptions(padToken: data.padToken), comm: comm,
                                  train: data.train, validation: data.validation)
        let checkpoints = out.appendingPathComponent("checkpoints")
        try startFromPreviousTask(trainer)
        try resume(trainer, checkpoints: checkpoints)
        try startEWC(trainer)
        try startReplay(trainer)
        let metrics = comm.isRoot ? try MetricsLog(path: c.output.metricsFile ?? out.appendingPathComponent("metrics.jsonl").path,
                                                   fresh: trainer.step == 0) : nil
        var lastValidation: Double?
        if trainer.step == 0, let v = try trainer.validationLoss() {
            lastValidation = v
            events(.initialValidation(loss: v))
            try metrics?.write(["step": 0, "val_loss": JSONText.number(v)])
        }
        var loop = LoopTotals(startStep: trainer.step)
        let total = c.optimizer.steps
        while trainer.step < total {
            let r = try trainer.trainStep()
            loop.add(r)
            if c.cadence.checkEvery > 0, r.step % c.cadence.checkEvery == 0 || r.step == total { try trainer.checkConsistency() }
            let evaluate = c.cadence.evalEvery > 0 ? (r.step % c.cadence.evalEvery == 0 || r.step == total) : r.step == total
            let validation = evaluate ? try trainer.validationLoss() : nil
            if let validation { lastValidation = validation }
            try metrics?.write(Self.metricsRecord(r, validation: validation))
            events(.step(StepEvent(report: r, validationLoss: validation, totalSteps: total,
                                   tokensPerSecond: loop.tokensPerSecond, etaSeconds: loop.secondsPerStep * Double(total - r.step),
                                   isLogStep: r.step % c.cadence.logEvery == 0 || r.step == total)))
            if c.cadence.saveEvery > 0, r.step % c.cadence.saveEvery == 0, r.step < total {   // collective
                let folder = checkpoints.appendingPathComponent(Checkpoint.name(step: r.step))
                try Checkpoint.save(trainer, modelPath: c.model, to: folder, optimizer: true)
                events(.checkpoint(step: r.step, folder: folder))
            }
        }
        loop.pss.sample(force: true)
        // Collective: every rank writes its master rows (Checkpoint.save).
        let checkpointStart = Date()
        let finalCheckpoint = checkpoints.appendingPathComponent(Checkpoint.name(step: trainer.step))
        try Checkpoint.save(trainer, modelPath: c.model, to: finalCheckpoint, optimizer: true)
        let checkpointSeconds = Date().timeIntervalSince(checkpointStart)
        events(.checkpoint(step: trainer.step, folder: finalCheckpoint))
        let adapterFolder = out.appendingPathComponent("adapter")
        try Checkpoint.save(trainer, modelPath: c.model, to: adapterFolder, optimizer: false)
        try finishEWC(trainer, train: data.train, out: out)
        try finishReplay(train: data.train, out: out)
        try writePEFT(adapters, settings: settings, out: out)
        try comm.barrier()
        let summary = try summarize(SummaryInputs(
            settings: settings, hosts: hosts, adapters: adapters, base: context.loaded.source, trainer: trainer, loop: loop,
            lastValidation: lastValidation,
            initSeconds: initSeconds, initMethod: initMethod, checkpointSeconds: checkpointSeconds,
            finalCheckpoint: finalCheckpoint, adapterFolder: adapterFolder, started: started))
        if comm.isRoot { try summary.write(to: out.appendingPathComponent("summary.json")) }
        events(.finished(summary))
        return summary
    }

    func note(_ line: String) { events(.note(line)) }

    /// One metrics.jsonl record (non-finite numbers as strings: JSON has none).
    static func metricsRecord(_ r: StepReport, validation: Double?) -> [String: Any] {
        var record: [String: Any] = ["step": r.step, "loss": JSONText.number(r.loss), "lr": r.lr, "tokens": r.tokens,
                                     "processed_tokens": r.processedTokens, "grad_norm": JSONText.number(r.gradNorm),
                                     "seconds": r.seconds, "allreduce_seconds": r.allReduceSeconds,
                                     "merge_seconds": r.mergeSeconds, "skipped": r.skipped]
        if let validation { record["val_loss"] = JSONText.number(validation) }
        return record
    }

    /// Without fusion in a task sequence: the previous task's final state, before this task's own checkpoint
    /// (if any) is resumed over it.
    func startFromPreviousTask(_ trainer: Trainer) throws {
        guard let path = configuration.sequence?.startState else { return }
        let state = try trainer.start(fromFinalStateOf: URL(fileURLWithPath: path))
        note("sequence without fusion: starting from the previous task's state after its \(state.step) steps (\(path))")
    }

    func resume(_ trainer: Trainer, checkpoints: URL) throws {
        guard let resume = configuration.output.resume else { return }
        // `auto`: the newest checkpoint that is whole; a damaged newer one is reported and passed over (every
        // rank reads the same files and so takes the same folder).
        let folder = resume == "auto"
            ? try Checkpoint.newestUsable(in: checkpoints) { note("checkpoint \($0.path) is damaged, passed over for an older one: \($1)") }
            : URL(fileURLWithPath: resume)
        if let folder {
            let state = try trainer.resume(from: folder)
            note("resumed from \(folder.path) at step \(state.step)")
        } else {
            note("no checkpoint in \(checkpoints.path): starting from scratch")
        }
    }

    /// The library side of the optimizer settings.
    func trainingOptions(padToken: Int32) -> TrainingOptions {
        let o = configuration.optimizer
        var t = TrainingOptions()
        t.steps = o.steps
        t.batchSize = o.batchSize
        t.microBatch = o.microBatch
        t.schedule = LRSchedule(kind: o.schedule, base: o.lr, warmup: o.warmup, total: o.steps)
        t.adamw.weightDecay = o.weightDecay
        t.clipNorm = o.clip > 0 ? o.clip : nil
        t.seed = o.seed
        t.padToken = padToken
        t.evalEvery = configuration.cadence.evalEvery
        t.saveEvery = configuration.cadence.saveEvery
        t.onNaN = o.onNaN
        t.recompute = o.recompute
        return t
    }

    /// OUTPUT/adapter-peft for methods PEFT can hold (rank 0).
    func writePEFT(_ adapters: AdapterSet, settings: MethodSettings, out: URL) throws {
        guard comm.isRoot, settings.method.definition.peftForm != nil else { return }
        if settings.imsm == nil {
            try PEFTFormat.export(adapters, to: out.appendingPathComponent("adapter-peft"), baseModel: configuration.model)
        } else {
            note("no adapter-peft folder: PEFT has no form for the IMSM gate (OUTPUT/adapter holds adapter and gate)")
        }
    }
}

/// Running totals of this invocation's steps.
struct LoopTotals {
    let startStep: Int
    var steps = 0, tokens = 0
    var seconds = 0.0, allReduce = 0.0, merge = 0.0
    var lastLoss: Double?
    var pss = PeakPSS()

    init(startStep: Int) {
        self.startStep = startStep
        pss.sample(force: true)
    }

    mutating func add(_ r: StepReport) {
        pss.sample()
        lastLoss = r.loss
        steps += 1
        tokens += r.processedTokens
        seconds += r.seconds
        allReduce += r.allReduceSeconds
        merge += r.mergeSeconds
    }

    var tokensPerSecond: Double { seconds > 0 ? Double(tokens) / seconds : 0 }
    var secondsPerStep: Double { steps > 0 ? seconds / Double(steps) : 0 }
}

/// A CABR SVD was asked for but the caller gave no solver.
struct UnavailableSVD: SVDSolver {
    func svd(rows: Int, columns: Int, parts: SVDParts, fill: MatrixRowFill) throws -> SVDResult {
        throw RunSettingError(.method, "CABR's SVD initialisation needs an SVD solver, and this run was given none (use slice initialisation)")
    }
}
