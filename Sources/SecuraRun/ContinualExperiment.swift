// The continual-learning experiment (the SECURA paper's experiment 3) as a library call: for every method,
// the tasks are trained in order with fusion at every task switch (TaskSequence), and after each task the
// fused model is scored on the held-out split of every task of the sequence and on the retention suite.
// Results: the accuracy matrix per method with average score, backward and forward transfer and forgetting
// (ContinualMetrics), the retention-suite mean after each task, as DIR/results.md, results.csv (one row per
// method × trained task × scored task) and results.json. Scores already computed are read back, so an
// interrupted experiment continues where it stopped.
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraEval

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

/// The scores of one model state: every task of the sequence and the retention suite.
struct SequenceScores: Codable {
    let tasks: [TaskResult]
    let suite: [TaskResult]
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
        let model = try ModelContext.open(o.model, comm: comm, note: note)
        let base: SequenceScores = try cachedValue(out.appendingPathComponent("base.json"), comm: comm) {
            note("== base model: \(o.tasks.count) task(s) and the retention suite")
            return try score(model)
        }
        var results: [ContinualResult] = []
        for spec in o.methods {
            var template = TrainConfiguration(model: o.model, data: DataSettings(path: "-"), output: OutputSettings(folder: "-"))
            template.method.cabrInit = o.cabrInit
            template.optimizer.steps = o.stepsPerTask
            template.optimizer.batchSize = o.batchSize
            template.optimizer.lr = o.lr
            template.optimizer.seed = o.seed
            template.prompt.maxLength = o.maxLength
            template.data.validationLimit = 20
            template.cadence.logEvery = 10
            try spec.apply(to: &template)
            let folder = out.appendingPathComponent("\(spec.slug)-lr\(ForgettingExperiment.number(template.optimizer.lr))")
            let sequence = TaskSequence(tasks: o.tasks, template: template, folder: folder, comm: comm, solvers: solvers, events: events)
            var rows: [SequenceScores] = []
            note("== \(spec.name): \(o.tasks.count) task(s) × \(template.optimizer.steps) steps, lr \(ForgettingExperiment.number(template.optimizer.lr))")
            try sequence.run(model: model) { index, fused in
                rows.append(try cachedValue(sequence.taskFolder(index).appendingPathComponent("scores.json"), comm: comm) {
                    note("   scoring after task \(index + 1)")
                    return try score(fused)
                })
            }
            results.append(ContinualResult(method: spec.name, lr: template.optimizer.lr, rows: rows))
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
    if FileManager.default.fileExists(atPath: url.path) {
        return try JSONText.decoder().decode(T.self, from: Data(contentsOf: url))
    }
    let value = try make()
    if comm.isRoot {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try JSONText.encoder().encode(value).write(to: url, options: .atomic)
    }
    try comm.barrier()
    return value
}
