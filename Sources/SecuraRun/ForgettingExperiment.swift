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
    public var seed: UInt64 = 42
    public var maxLength = 256
    /// The retention suite's files.
    public var suiteFiles: [String]
    public var suiteLimit = 50
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
        let note: (String) -> Void = { self.events(.note($0)) }
        let out = URL(fileURLWithPath: o.output)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let started = Date()
        for file in o.tasks + o.suiteFiles where !FileManager.default.fileExists(atPath: file) {
            throw RunSettingError(.task, "\(file): no such data file")
        }
        let model = try ModelContext.open(o.model, comm: comm, note: note)
        let base: BaseScores = try cached(out.appendingPathComponent("base.json")) {
            note("== base model: \(o.tasks.count) task(s) and the retention suite")
            let tasks = try evaluate(model, adapter: nil, files: o.tasks, limit: o.taskLimit)
            let suite = try evaluate(model, adapter: nil, files: o.suiteFiles, limit: o.suiteLimit)
            return BaseScores(tasks: tasks, suite: suite)
        }
        var records: [ForgettingRecord] = []
        for task in o.tasks {
            let taskName = EvalTask.taskName(task)
            for spec in o.methods {
                let folder = out.appendingPathComponent(taskName).appendingPathComponent("\(spec.slug)-lr\(Self.number(o.lr))")
                let record: ForgettingRecord = try cached(folder.appendingPathComponent("eval.json")) {
                    note("== \(taskName): \(spec.name), lr \(Self.number(o.lr)), \(o.steps) steps")
                    let trainStart = Date()
                    try TrainingSession(trainConfiguration(task: task, spec: spec, folder: folder), comm: comm,
                                        solvers: solvers, events: events).run(model: model)
                    let trainSeconds = Date().timeIntervalSince(trainStart)
                    let evalStart = Date()
                    let adapter = folder.appendingPathComponent("adapter").path
                    let taskResult = try evaluate(model, adapter: adapter, files: [task], limit: o.taskLimit)[0]
                    let suite = try evaluate(model, adapter: adapter, files: o.suiteFiles, limit: o.suiteLimit)
                    return ForgettingRecord(task: taskName, method: spec.name, lr: o.lr, steps: o.steps, trainSeconds: trainSeconds,
                                            evalSeconds: Date().timeIntervalSince(evalStart), taskResult: taskResult, suite: suite)
                }
                records.append(record)
            }
        }
        let tables = ForgettingTables(base: base, records: records, options: o, wallSeconds: Date().timeIntervalSince(started))
        let markdown = tables.markdown()
        if comm.isRoot {
            try write(markdown, to: out.appendingPathComponent("results.md"))
            try write(tables.csv(), to: out.appendingPathComponent("results.csv"))
        }
        try comm.barrier()
        return markdown
    }

    /// One run of the experiment: the method on the task, the experiment's optimizer settings, a
    /// progress line every 10 steps and the validation loss on 20 held-out examples at the start and end.
    func trainConfiguration(task: String, spec: MethodSpec, folder: URL) -> TrainConfiguration {
        let o = settings
        var data = DataSettings(path: task)
        data.validationLimit = 20
        var c = TrainConfiguration(model: o.model, data: data, output: OutputSettings(folder: folder.path))
        c.method.method = spec.method
        if let mode = spec.imsmMode {
            var imsm = IMSMSettings()
            imsm.mode = mode
            c.method.imsm = imsm
        }
        c.method.cabrInit = o.cabrInit
        c.optimizer.steps = o.steps
        c.optimizer.batchSize = o.batchSize
        c.optimizer.lr = o.lr
        c.optimizer.seed = o.seed
        c.prompt.maxLength = o.maxLength
        c.cadence.logEvery = 10
        c.cadence.evalEvery = 0
        return c
    }

    /// Scores each file with the model (+ adapter), capped at `limit` records per file.
    func evaluate(_ model: ModelContext, adapter: String?, files: [String], limit: Int) throws -> [TaskResult] {
        var e = EvalSettings()
        e.mode = settings.mode
        e.limit = limit
        e.seed = settings.seed
        e.prompt.maxLength = 512
        return try Evaluation(e, comm: comm, note: { self.events(.note($0)) })
            .run(modelPath: settings.model, adapter: adapter, files: files, model: model).tasks
    }

    /// The value stored at `url` when it exists (every rank reads it), else `make()`'s result, which
    /// rank 0 writes there before all ranks go on.
    func cached<T: Codable>(_ url: URL, _ make: () throws -> T) throws -> T {
        if FileManager.default.fileExists(atPath: url.path) {
            return try JSONText.decoder().decode(T.self, from: Data(contentsOf: url))
        }
        let value = try make()
        if comm.isRoot {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try write(String(decoding: try JSONText.encoder().encode(value), as: UTF8.self), to: url)
        }
        try comm.barrier()
        return value
    }

    func write(_ text: String, to url: URL) throws {
        try Data(text.utf8).write(to: url, options: .atomic)
    }

    static func number(_ x: Double) -> String {
        String(format: "%g", x)
    }
}

/// A method of the experiment: a training method, optionally with IMSM ("lora+imsm", "lora+imsm:no-gate").
public struct MethodSpec: Sendable {
    public let method: AdapterMethod
    public let imsmMode: IMSMMode?
    /// As written ("lora+imsm:no-gate").
    public let name: String

    public init?(_ text: String) {
        let parts = text.split(separator: "+", maxSplits: 1).map(String.init)
        guard let method = AdapterMethod(rawValue: parts[0]) else { return nil }
        self.method = method
        self.name = text
        if parts.count == 2 {
            let imsm = parts[1].split(separator: ":", maxSplits: 1).map(String.init)
            guard imsm[0] == "imsm" else { return nil }
            guard let mode = imsm.count == 2 ? IMSMMode(rawValue: imsm[1]) : .full else { return nil }
            imsmMode = mode
        } else {
            imsmMode = nil
        }
    }

    /// A folder-friendly name ("lora-imsm-no-gate").
    public var slug: String { method.rawValue + (imsmMode.map { $0 == .full ? "-imsm" : "-imsm-" + $0.rawValue } ?? "") }
}
