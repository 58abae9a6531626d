// Scoring a model (with or without an adapter) on task files as a library call: every file is read first
// (a bad file fails before the model is loaded), then each task's records are sharded over the ranks,
// predicted, gathered on rank 0 and scored with every metric that applies. Identical results for any
// number of ranks.
import Foundation
import SecuraData
import SecuraDistributed
import SecuraEval
import SecuraModel

/// Which records are scored and how.
public struct EvalSettings: Codable, Sendable, Equatable {
    public var mode = ScoringMode.teacherForced
    public var part = EvalPart.auto
    /// Train fraction and seed of the train/test split (as training's).
    public var trainFraction = 0.9
    public var seed: UInt64 = 42
    /// At most this many records per file.
    public var limit: Int?
    /// Most new tokens per answer in generate mode.
    public var maxNewTokens = 32
    public var prompt = PromptSettings()

    public init() {}

    /// Throws `RunSettingError` for a setting outside its range.
    public func validate() throws {
        try SettingCheck.real(trainFraction, 0...1, .split, openBelow: true)
        if let limit { try SettingCheck.int(limit, SettingRanges.count, .limit) }
        try SettingCheck.int(maxNewTokens, SettingRanges.count, .maxNewTokens)
        try SettingCheck.int(prompt.maxLength, SettingRanges.maxLength, .maxLength)
    }
}

public struct Evaluation {
    public let settings: EvalSettings
    public let comm: Communicator
    /// Progress lines (every rank calls it; the caller decides who prints).
    public let note: (String) -> Void

    public init(_ settings: EvalSettings, comm: Communicator, note: @escaping (String) -> Void) {
        self.settings = settings
        self.comm = comm
        self.note = note
    }

    /// Scores `files` with the model at `modelPath` (opened and shared here unless `model` is given) and
    /// the adapter folder `adapter`. Collective over `comm`.
    public func run(modelPath: String, adapter: String?, files: [String], model: ModelContext? = nil) throws -> EvalResults {
        try settings.validate()
        let s = settings
        let evalTasks = try files.map { try EvalTask.load(path: $0, part: s.part, split: s.trainFraction, seed: s.seed, limit: s.limit) }
        let context = try model ?? ModelContext.open(modelPath, comm: comm, note: note)
        let builder = try context.promptBuilder(s.prompt)
        let predictor = Predictor(model: try context.decoder(adapter: adapter), builder: builder, mode: s.mode,
                                  maxNewTokens: s.maxNewTokens)
        var tasks: [TaskResult] = []
        for task in evalTasks {
            let start = Date()
            var lastPrint = Date.distantPast
            let predictions = try ShardedPredictions.run(task, predictor: predictor, comm: comm) { done, share in
                guard Date().timeIntervalSince(lastPrint) > 10 || done == share else { return }
                lastPrint = Date()
                note("  \(task.name): \(done)/\(share) records on rank 0 (\(task.records.count) over \(comm.size) rank(s))")
            }
            let result = TaskResult(task: task, predictions: predictions, mode: s.mode, seconds: Date().timeIntervalSince(start))
            note("\(task.name) (\(task.part.rawValue), \(task.records.count) records, \(s.mode.rawValue)): "
                 + "\(result.primaryMetric) \(String(format: "%.4f", result.primary)) in " + String(format: "%.1f s", result.seconds))
            tasks.append(result)
        }
        return EvalResults(model: modelPath, adapter: adapter, mode: s.mode.rawValue, tasks: tasks)
    }
}

extension Evaluation {
    /// How the experiments score a model state: at most `limit` records per file from `seed`'s held-out split,
    /// in `mode`, prompts up to 512 tokens, with the adapter in `adapter` (nil: the model as it is).
    static func experimentScores(_ model: ModelContext, modelPath: String, adapter: String?, files: [String], limit: Int,
                                 seed: UInt64, mode: ScoringMode, comm: Communicator, note: @escaping (String) -> Void) throws -> [TaskResult] {
        var e = EvalSettings()
        e.mode = mode
        e.limit = limit
        e.seed = seed
        e.prompt.maxLength = 512
        return try Evaluation(e, comm: comm, note: note).run(modelPath: modelPath, adapter: adapter, files: files, model: model).tasks
    }
}
