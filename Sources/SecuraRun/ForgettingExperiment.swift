// The forgetting experiment (the SECURA paper's experiment 2) as a library call: base scores, then for
// each task × method a training run and its scores on the task and the retention suite, then the tables.
// Runs are built as values (`TrainConfiguration`, `EvalSettings`) on one opened model. Every step is
// collective over the communicator; rank 0 writes the files. A run whose eval.json exists is read back,
// not redone, so an interrupted experiment continues where it stopped.
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraEval
import SecuraModel

/// One fine-tuning run's scores: on its task's held-out split and on the retention suite.
struct ForgettingRecord: Codable {
    let task: String
    let method: String
    let lr: Double
    let steps: Int
    let trainSeconds: Double
    let evalSeconds: Double
    let taskResult: TaskResult
    let suite: [TaskResult]
    /// The run's seed (nil in records written before experiments had several seeds: the only seed).
    var seed: UInt64?
    /// Mean ‖W_after − W_before‖/‖W_before‖ over the adapted weights (nil for IMSM runs and older records).
    var weightMovement: Double?
    /// The last step's training loss (nil in older records).
    var finalLoss: Double?
}

/// The base model's scores (before any fine-tuning).
struct BaseScores: Codable {
    let tasks: [TaskResult]
    let suite: [TaskResult]
}

/// What the experiment runs.
public struct ForgettingSettings: Sendable {
    public var model: String
    /// Task files to fine-tune on.
    public var tasks: [String]
    public var methods: [MethodSpec]
    public var lr = 1e-3
    public var steps = 100
    public var batchSize = 4
    /// One run per seed for every task × method (the seed of training and of the task's held-out split).
    public var seeds: [UInt64] = [42]
    public var maxLength = 256
    /// The retention suite's files.
    public var suiteFiles: [String]
    public var suiteLimit = 100
    public var taskLimit = 100
    public var cabrInit = CABRInit.slice
    public var mode = ScoringMode.teacherForced
    public var output: String

    public init(model: String, tasks: [String], methods: [MethodSpec], suiteFiles: [String], output: String) {
        self.model = model
        self.tasks = tasks
        self.methods = methods
        self.suiteFiles = suiteFiles
        self.output = output
    }
}

public struct ForgettingExperiment {
    public let settings: ForgettingSettings
    public let comm: Communicator
    public let solvers: SVDSolvers?
    /// Every run's events and the experiment's own notes, on every rank.
    public let events: (RunEvent) -> Void

    public init(_ settings: ForgettingSettings, comm: Communicator, solvers: SVDSolvers?, events: @escaping (RunEvent) -> Void) {
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
        for file in o.tasks + o.suiteFiles where !FileManager.default.fileExists(atPath: file) {
            throw RunSettingError(.task, "\(file): no such data file")
        }
        guard !o.seeds.isEmpty, Set(o.seeds).count == o.seeds.count else { throw RunSettingError(.seeds, "give one or more distinct seeds") }
        let model = try ModelContext.open(o.model, comm: comm, note: note)
        let several = o.seeds.count > 1
        var bases: [UInt64: BaseScores] = [:]
        var records: [ForgettingRecord] = []
        for seed in o.seeds {
            // The held-out split depends on the seed: the base model is scored on each seed's split.
            bases[seed] = try baseScores(out.appendingPathComponent(several ? "base-seed\(seed).json" : "base.json"),
                                         seed: seed, several: several, model: model)
            for task in o.tasks {
                for spec in o.methods {
                    records.append(try run(spec, task: task, seed: seed, several: several, model: model, out: out))
                }
            }
        }
        let tables = ForgettingTables(bases: bases, records: records, options: o, wallSeconds: Date().timeIntervalSince(started))
        let markdown = tables.markdown()
        if comm.isRoot {
            try write(markdown, to: out.appendingPathComponent("results.md"))
            try write(tables.csv(), to: out.appendingPathComponent("results.csv"))
        }
        try comm.barrier()
        return markdown
    }

    /// The base model's scores on this invocation's tasks and retention suite, in their order, for `seed`. A file
    /// written before (`url`) is read back by task name: an earlier invocation in the same folder may have had
    /// other tasks, so only the tasks and suite files it lacks are scored, and added to the file (the others kept).
    func baseScores(_ url: URL, seed: UInt64, several: Bool, model: ModelContext) throws -> BaseScores {
        let o = settings
        let stored: BaseScores? = try storedValue(url)
        func missing(_ files: [String], in results: [TaskResult]?) -> [String] {
            files.filter { f in !(results ?? []).contains { $0.name == EvalTask.taskName(f) } }
        }
        let newTasks = missing(o.tasks, in: stored?.tasks), newSuite = missing(o.suiteFiles, in: stored?.suite)
        var all = stored ?? BaseScores(tasks: [], suite: [])
        if !newTasks.isEmpty || !newSuite.isEmpty {
            note("== base model: \(newTasks.count) task(s)" + (newSuite.isEmpty ? "" : " and \(newSuite.count) retention file(s)")
                 + (stored == nil ? "" : " not in \(url.lastPathComponent)") + (several ? ", seed \(seed)" : ""))
            let tasks = newTasks.isEmpty ? [] : try evaluate(model, adapter: nil, files: newTasks, limit: o.taskLimit, seed: seed)
            let suite = newSuite.isEmpty ? [] : try evaluate(model, adapter: nil, files: newSuite, limit: o.suiteLimit, seed: seed)
            all = BaseScores(tasks: all.tasks + tasks, suite: all.suite + suite)
            try store(all, at: url, comm: comm)
        }
        func pick(_ files: [String], from results: [TaskResult]) throws -> [TaskResult] {
            try files.map { f in
                guard let r = results.first(where: { $0.name == EvalTask.taskName(f) }) else {
                    throw RunSettingError(.task, "\(url.path): no base score for \(EvalTask.taskName(f)) after scoring it")
                }
                return r
            }
        }
        return BaseScores(tasks: try pick(o.tasks, from: all.tasks), suite: try pick(o.suiteFiles, from: all.suite))
    }

    /// Trains `spec` on `task` with `seed` and scores the result (or reads the scores of a run done before).
    func run(_ spec: MethodSpec, task: String, seed: UInt64, several: Bool, model: ModelContext, out: URL) throws -> ForgettingRecord {
        let taskName = EvalTask.taskName(task)
        var c = try TrainConfiguration.experimentRun(spec, model: settings.model, data: task, folder: "", cabrInit: settings.cabrInit,
                                                     steps: settings.steps, batchSize: settings.batchSize, lr: settings.lr, seed: seed,
                                                     maxLength: settings.maxLength)
        let name = "\(spec.slug)-lr\(Self.number(c.optimizer.lr))" + (several ? "-seed\(seed)" : "")
        let folder = out.appendingPathComponent(taskName).appendingPathComponent(name)
        c.output = OutputSettings(folder: folder.path)
        var record: ForgettingRecord = try cachedValue(folder.appendingPathComponent("eval.json"), comm: comm) {
            note("== \(taskName): \(spec.name), lr \(Self.number(c.optimizer.lr)), \(c.optimizer.steps) steps" + (several ? ", seed \(seed)" : ""))
            let trainStart = Date()
            let summary = try TrainingSession(c, comm: comm, solvers: solvers, events: events).run(model: model)
            let trainSeconds = Date().timeIntervalSince(trainStart)
            let evalStart = Date()
            let adapter = folder.appendingPathComponent("adapter").path
            let taskResult = try evaluate(model, adapter: adapter, files: [task], limit: settings.taskLimit, seed: seed)[0]
            let suite = try evaluate(model, adapter: adapter, files: settings.suiteFiles, limit: settings.suiteLimit, seed: seed)
            return ForgettingRecord(task: taskName, method: spec.name, lr: c.optimizer.lr, steps: c.optimizer.steps, trainSeconds: trainSeconds,
                                    evalSeconds: Date().timeIntervalSince(evalStart), taskResult: taskResult, suite: suite, seed: seed,
                                    weightMovement: summary.weight_movement?.mean, finalLoss: summary.final_loss)
        }
        record.seed = record.seed ?? seed
        return record
    }

    func note(_ line: String) { events(.note(line)) }

    /// Scores each file with the model (+ adapter), capped at `limit` records per file, on `seed`'s split.
    func evaluate(_ model: ModelContext, adapter: String?, files: [String], limit: Int, seed: UInt64) throws -> [TaskResult] {
        try Evaluation.experimentScores(model, modelPath: settings.model, adapter: adapter, files: files, limit: limit, seed: seed,
                                        mode: settings.mode, comm: comm, note: { self.events(.note($0)) })
    }

    func write(_ text: String, to url: URL) throws {
        try Data(text.utf8).write(to: url, options: .atomic)
    }

    static func number(_ x: Double) -> String {
        String(format: "%g", x)
    }
}
