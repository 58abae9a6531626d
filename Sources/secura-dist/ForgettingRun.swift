// The body of `experiment forgetting`: base scores, then train + score for each task × method, then
// the tables. Every step is collective over the communicator; rank 0 writes the files.
import Foundation
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

struct ForgettingRun {
    let options: Forgetting
    let comm: Communicator

    func run() throws {
        let o = options
        let say = RootPrinter(comm: comm)
        let out = URL(fileURLWithPath: o.output)
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let started = Date()
        let loaded = try openModel(o.model, comm: comm, say: say)
        let suiteFiles = RetentionSuite.files(in: o.suiteDir, names: o.suite.split(separator: ",").map(String.init))
        for file in o.task + suiteFiles where !FileManager.default.fileExists(atPath: file) {
            throw ValidationFailure("\(file): no such data file")
        }

        let base: BaseScores = try cached(out.appendingPathComponent("base.json")) {
            say("== base model: \(o.task.count) task(s) and the retention suite")
            let tasks = try evaluate(loaded, adapter: nil, files: o.task, limit: o.taskLimit, say: say)
            let suite = try evaluate(loaded, adapter: nil, files: suiteFiles, limit: o.suiteLimit, say: say)
            return BaseScores(tasks: tasks, suite: suite)
        }
        var records: [ForgettingRecord] = []
        for task in o.task {
            let taskName = EvalTask.taskName(task)
            for method in o.methodList {
                let spec = MethodSpec(method)!
                let folder = out.appendingPathComponent(taskName).appendingPathComponent("\(spec.slug)-lr\(Self.number(o.lr))")
                let record: ForgettingRecord = try cached(folder.appendingPathComponent("eval.json")) {
                    say("== \(taskName): \(method), lr \(Self.number(o.lr)), \(o.steps) steps")
                    let trainStart = Date()
                    let train = try Train.parse([
                        "--model", o.model, "--data", task] + spec.trainArguments + ["--steps", "\(o.steps)",
                        "--batch-size", "\(o.batchSize)", "--lr", Self.number(o.lr), "--max-length", "\(o.maxLength)",
                        "--seed", "\(o.seed)", "--output", folder.path, "--log-every", "10", "--eval-every", "0",
                        "--validation-limit", "20", "--cabr-init", o.cabrInit.rawValue])
                    try TrainingRun(options: train, comm: comm, preloaded: loaded).run()
                    let trainSeconds = Date().timeIntervalSince(trainStart)
                    let evalStart = Date()
                    let adapter = folder.appendingPathComponent("adapter").path
                    let taskResult = try evaluate(loaded, adapter: adapter, files: [task], limit: o.taskLimit, say: say)[0]
                    let suite = try evaluate(loaded, adapter: adapter, files: suiteFiles, limit: o.suiteLimit, say: say)
                    return ForgettingRecord(task: taskName, method: method, lr: o.lr, steps: o.steps, trainSeconds: trainSeconds,
                                            evalSeconds: Date().timeIntervalSince(evalStart), taskResult: taskResult, suite: suite)
                }
                records.append(record)
            }
        }
        if comm.isRoot {
            let tables = ForgettingTables(base: base, records: records, options: o,
                                          wallSeconds: Date().timeIntervalSince(started))
            try write(tables.markdown(), to: out.appendingPathComponent("results.md"))
            try write(tables.csv(), to: out.appendingPathComponent("results.csv"))
            print(tables.markdown())
            print("results in \(out.path)/results.md and results.csv; plot with: launch/plot-forgetting.sh \(out.path)")
        }
        try comm.barrier()
    }

    /// Scores each file with the model (+ adapter), capped at `limit` records per file.
    func evaluate(_ loaded: LoadedModel, adapter: String?, files: [String], limit: Int, say: RootPrinter) throws -> [TaskResult] {
        let eval = try EvalOptions.parse(["--mode", options.mode.rawValue, "--limit", "\(limit)", "--seed", "\(options.seed)",
                                          "--max-length", "512"])
        return try EvaluationRun(model: options.model, adapter: adapter, files: files, options: eval, comm: comm,
                                 log: { say($0) }, preloaded: loaded).run().tasks
    }

    /// The value stored at `url` when it exists (every rank reads it), else `make()`'s result, which
    /// rank 0 writes there before all ranks go on.
    func cached<T: Codable>(_ url: URL, _ make: () throws -> T) throws -> T {
        if FileManager.default.fileExists(atPath: url.path) {
            return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
        }
        let value = try make()
        if comm.isRoot {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try write(String(decoding: try JSONEncoder().encode(value), as: UTF8.self), to: url)
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

/// A validation failure found after start-up, reported like any other error.
struct ValidationFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
