// The continual-learning experiment (the SECURA paper's experiment 3) as a library call: for every method,
// the tasks are trained in order with fusion at every task switch (TaskSequence; without fusion, one adapter
// carried through the tasks), and after each task the model with the task's adapter merged is scored on the
// held-out split of every task of the sequence and on the retention suite.
// Results: the accuracy matrix per method with average score, backward and forward transfer and forgetting
// (ContinualMetrics), the retention-suite mean after each task, as DIR/results.md, results.csv (one row per
// method × trained task × scored task, and per step scored in the middle of a task) and results.json. Scores
// already computed are read back, so an interrupted experiment continues where it stopped, and a method whose
// every score is stored is not run again at all (its checkpoints may have been deleted to save space).
//
// Scores in the middle of a task (`evalEvery`) come from the task's checkpoints: the run saves one every
// `evalEvery` steps, and after the task each checkpoint is fused into the model as it stood before the task
// and scored. The run itself is the uninterrupted one (a checkpoint write changes no value), so the sequence
// ends in the same state with or without mid-task scores.
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraEval
import SecuraTrain

/// What the experiment runs.
public struct ContinualSettings: Sendable {
    public var model: String
    /// Task files, in training order.
    public var tasks: [String]
    public var methods: [MethodSpec]
    public var stepsPerTask = 50
    public var batchSize = 4
    public var lr = 1e-5
    public var seed: UInt64 = 42
    public var maxLength = 256
    public var suiteFiles: [String]
    public var suiteLimit = 50
    public var taskLimit = 50
    /// Also score every task and the retention suite every this many steps inside each task (0: after each
    /// task only). The runs save a checkpoint at those steps.
    public var evalEvery = 0
    public var cabrInit = CABRInit.slice
    public var mode = ScoringMode.teacherForced
    /// Fuse every run into the model at its task's end (the paper's setting); false carries each method's whole
    /// run state (adapter values, AdamW moments, SECURA-M1's masters) from task to task on the original model.
    public var fuseAtTaskEnd = true
    public var output: String

    public init(model: String, tasks: [String], methods: [MethodSpec], suiteFiles: [String], output: String) {
        self.model = model
        self.tasks = tasks
        self.methods = methods
        self.suiteFiles = suiteFiles
        self.output = output
    }
}

/// The scores of one model state: every task of the sequence and the retention suite.
struct SequenceScores: Codable {
    let tasks: [TaskResult]
    let suite: [TaskResult]
}

/// Scores taken in the middle of a task: `step` optimizer steps into task `task` (0-based).
struct MidTaskScores {
    let task: Int
    let step: Int
    let scores: SequenceScores
}

public struct ContinualExperiment {
    public let settings: ContinualSettings
    public let comm: Communicator
    public let solvers: SVDSolvers?
    public let events: (RunEvent) -> Void

    public init(_ settings: ContinualSettings, comm: Communicator, solvers: SVDSolvers?, events: @escaping (RunEvent) -> Void) {
        self.settings = settings
        self.comm = comm
        self.solvers = solvers
        self.events = events
    }

    /// Runs the experiment; returns the Markdown report (every rank).
    @discardableResult
    public func run() throws -> String {
        let o = settings
        let out = URL(fileURLWithPath: o.output)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let started = Date()
        guard o.tasks.count >= 1 else { throw RunSettingError(.task, "give at least one task") }
        guard Set(o.tasks.map(EvalTask.taskName)).count == o.tasks.count else { throw RunSettingError(.task, "two tasks have the same file name") }
        for file in o.tasks + o.suiteFiles where !FileManager.default.fileExists(atPath: file) {
            throw RunSettingError(.task, "\(file): no such data file")
        }
        // Every method's sequence is planned before any weight is read (TaskSequence.checkMemory).
        let model = try ModelContext.open(o.model)
        let sequences = try o.methods.map { try sequence($0, in: out) }
        for s in sequences { try s.checkMemory(model.loaded) }
        try model.shareDequantised(comm: comm, note: note)
        let base: SequenceScores = try cachedValue(out.appendingPathComponent("base.json"), comm: comm) {
            note("== base model: \(o.tasks.count) task(s) and the retention suite")
            return try score(model)
        }
        var results: [ContinualResult] = []
        for (spec, sequence) in zip(o.methods, sequences) {
            let template = sequence.template
            var rows: [SequenceScores] = [], midTask: [MidTaskScores] = []
            note("== \(spec.name): \(o.tasks.count) task(s) × \(template.optimizer.steps) steps, lr \(ForgettingExperiment.number(template.optimizer.lr)), "
                 + (o.fuseAtTaskEnd ? "fused at every task's end" : "one adapter carried through the tasks (no fusion)"))
            if let stored = try storedScores(sequence) {
                note("   every task trained and scored before (\(sequence.folder.path)): scores read back, nothing retrained")
                (rows, midTask) = stored
            } else {
                var before = model
                try sequence.run(model: model) { index, fused in
                    for step in Self.midTaskSteps(every: o.evalEvery, steps: template.optimizer.steps) {
                        let scores = try scoreCheckpoint(sequence, task: index, step: step, before: before)
                        midTask.append(MidTaskScores(task: index, step: step, scores: scores))
                    }
                    rows.append(try cachedValue(sequence.taskFolder(index).appendingPathComponent("scores.json"), comm: comm) {
                        note("   scoring after task \(index + 1)")
                        return try score(fused)
                    })
                    if o.fuseAtTaskEnd { before = fused }   // without fusion every task trains on the original model
                }
            }
            results.append(ContinualResult(method: spec.name, folder: sequence.folder.lastPathComponent, lr: template.optimizer.lr,
                                           steps: template.optimizer.steps, fused: o.fuseAtTaskEnd, rows: rows, midTask: midTask))
        }
        let report = ContinualReport(base: base, results: results, settings: o, wallSeconds: Date().timeIntervalSince(started))
        let markdown = report.markdown()
        if comm.isRoot {
            try Data(markdown.utf8).write(to: out.appendingPathComponent("results.md"), options: .atomic)
            try Data(report.csv().utf8).write(to: out.appendingPathComponent("results.csv"), options: .atomic)
            try JSONText.encoder(pretty: true).encode(report.summaries()).write(to: out.appendingPathComponent("results.json"), options: .atomic)
        }
        try comm.barrier()
        return markdown
    }

    func note(_ line: String) { events(.note(line)) }

    /// `spec`'s sequence of the tasks, in OUTPUT/METHOD-lrLR (-unfused without fusion); TaskSequence sets
    /// each task's data file and folder.
    func sequence(_ spec: MethodSpec, in out: URL) throws -> TaskSequence {
        let o = settings
        let template = try TrainConfiguration.experimentRun(spec, model: o.model, data: "-", folder: "-", cabrInit: o.cabrInit,
                                                            steps: o.stepsPerTask, batchSize: o.batchSize, lr: o.lr, seed: o.seed,
                                                            maxLength: o.maxLength, saveEvery: o.evalEvery)
        let folder = out.appendingPathComponent("\(spec.slug)-lr\(ForgettingExperiment.number(template.optimizer.lr))"
                                                + (o.fuseAtTaskEnd ? "" : "-unfused"))
        return TaskSequence(tasks: o.tasks, template: template, folder: folder, comm: comm, solvers: solvers,
                            fuseAtTaskEnd: o.fuseAtTaskEnd, events: events)
    }

    /// Every score of `sequence` when all were computed before: each task trained to its last step (summary.json)
    /// and scored after it (scores.json) and at every mid-task step asked for (scores-step-N.json). Nothing then
    /// needs the model, so a finished method is read back even after its checkpoints and adapters (with `full`,
    /// 1.2 GB per task on SmolLM2) were deleted; nil when anything is missing (the sequence then runs, fusing or
    /// training what it needs). Every rank reads the files, as `cachedValue` does.
    func storedScores(_ sequence: TaskSequence) throws -> (rows: [SequenceScores], midTask: [MidTaskScores])? {
        var rows: [SequenceScores] = [], midTask: [MidTaskScores] = []
        func stored(_ url: URL) throws -> SequenceScores? {
            guard FileManager.default.fileExists(atPath: url.path) else { return nil }
            return try JSONText.decoder().decode(SequenceScores.self, from: Data(contentsOf: url))
        }
        for index in settings.tasks.indices {
            let folder = sequence.taskFolder(index)
            let steps = sequence.configuration(index).optimizer.steps
            guard let summary = try? TrainSummary.read(folder.appendingPathComponent("summary.json")), summary.final_step == steps else { return nil }
            for step in Self.midTaskSteps(every: settings.evalEvery, steps: steps) {
                guard let scores = try stored(folder.appendingPathComponent("scores-step-\(step).json")) else { return nil }
                midTask.append(MidTaskScores(task: index, step: step, scores: scores))
            }
            guard let scores = try stored(folder.appendingPathComponent("scores.json")) else { return nil }
            rows.append(scores)
        }
        return (rows, midTask)
    }

    /// The steps inside a task of `steps` at which to score: every `every`-th, the last excluded (the scores
    /// after the task are those); none for `every` = 0.
    static func midTaskSteps(every: Int, steps: Int) -> [Int] {
        every > 0 ? Array(stride(from: every, to: steps, by: every)) : []
    }

    /// The scores of task `task`'s checkpoint at `step`, fused into `before` (the model that task trains on),
    /// read back from TASK/scores-step-N.json when computed earlier. Collective.
    /// - Throws: `RunSettingError` when the checkpoint is missing (a task trained without --eval-every).
    func scoreCheckpoint(_ sequence: TaskSequence, task: Int, step: Int, before: ModelContext) throws -> SequenceScores {
        let folder = sequence.taskFolder(task)
        return try cachedValue(folder.appendingPathComponent("scores-step-\(step).json"), comm: comm) {
            let checkpoint = folder.appendingPathComponent("checkpoints").appendingPathComponent(Checkpoint.name(step: step))
            guard FileManager.default.fileExists(atPath: checkpoint.appendingPathComponent("state.json").path) else {
                throw RunSettingError(.evalEvery, "\(settings.evalEvery), but \(checkpoint.path) does not exist (was the task trained without --eval-every, or with another value?)")
            }
            note("   scoring task \(task + 1) at step \(step)")
            return try score(try before.fused(adapter: checkpoint.path))
        }
    }

    /// The model's scores on every task's held-out split and on the retention suite.
    func score(_ model: ModelContext) throws -> SequenceScores {
        func evaluate(_ files: [String], limit: Int) throws -> [TaskResult] {
            try Evaluation.experimentScores(model, modelPath: settings.model, adapter: nil, files: files, limit: limit,
                                            seed: settings.seed, mode: settings.mode, comm: comm, note: note)
        }
        return SequenceScores(tasks: try evaluate(settings.tasks, limit: settings.taskLimit),
                              suite: try evaluate(settings.suiteFiles, limit: settings.suiteLimit))
    }
}

/// The value stored at `url` when it exists (every rank reads it), else `make()`'s result, which rank 0 writes
/// there before all ranks go on: how both experiments keep finished runs and scores. Collective.
func cachedValue<T: Codable>(_ url: URL, comm: Communicator, _ make: () throws -> T) throws -> T {
    if let stored: T = try storedValue(url) { return stored }
    let value = try make()
    try store(value, at: url, comm: comm)
    return value
}

/// The value stored at `url`, or nil when there is no file.
func storedValue<T: Codable>(_ url: URL) throws -> T? {
    guard FileManager.default.fileExists(atPath: url.path) else { return nil }
    return try JSONText.decoder().decode(T.self, from: Data(contentsOf: url))
}

/// Rank 0 writes `value` to `url` (atomically, folders created); all ranks wait for it. Collective.
func store<T: Codable>(_ value: T, at url: URL, comm: Communicator) throws {
    if comm.isRoot {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try JSONText.encoder().encode(value).write(to: url, options: .atomic)
    }
    try comm.barrier()
}
