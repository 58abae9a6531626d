// An evaluation task: the records of one data file that are scored, chosen the way training chose its
// held-out part, and capped with --limit. A BIG-bench task file is split 9:1 with the run's seed exactly
// as `train` splits it, so its test part is the part the model never trained on; a `*_test.jsonl` file
// (the GLUE/QA retention sets) is used whole.
import Foundation
import SecuraData

/// Which records of a file to score.
public enum EvalPart: String, CaseIterable, Sendable, Codable {
    /// `test` for BIG-bench task files and JSONL files not named `*_test.jsonl`; `all` for those.
    case auto
    /// The held-out part of the train/test split (`--split`, `--seed`), as `train` makes it.
    case test
    /// The training part of the same split.
    case train
    /// Every record.
    case all
}

/// The records of one file to evaluate.
public struct EvalTask: Sendable {
    /// The file name without its extension (e.g. "object_counting", "gsm8k_test").
    public let name: String
    public let path: String
    /// The part actually used (never `.auto`).
    public let part: EvalPart
    public let records: [DataRecord]

    public init(name: String, path: String, part: EvalPart, records: [DataRecord]) {
        self.name = name
        self.path = path
        self.part = part
        self.records = records
    }

    /// Reads `path` and picks its records.
    /// - Parameters:
    ///   - split: train fraction of the split (`train --split`, 0.9 by default).
    ///   - seed: the split's seed (`train --seed`).
    ///   - limit: at most this many records (the first ones of the part, in split order); nil = all.
    /// - Throws: `DataError` naming the file and the line or example when it cannot be read, or when the
    ///   chosen part is empty.
    public static func load(path: String, part: EvalPart = .auto, split: Double = 0.9, seed: UInt64 = 42,
                            limit: Int? = nil, skipBadLines: Bool = false) throws -> EvalTask {
        let file = try DatasetLoader.read(path, skipBadLines: skipBadLines)
        let resolved = part == .auto ? defaultPart(path) : part
        var records: [DataRecord]
        switch resolved {
        case .all, .auto: records = file.records
        case .test: records = DatasetSplit.split(file.records, trainFraction: split, seed: seed).test
        case .train: records = DatasetSplit.split(file.records, trainFraction: split, seed: seed).train
        }
        if let limit { records = Array(records.prefix(max(0, limit))) }
        guard !records.isEmpty else {
            if let limit, limit <= 0 { throw DataError.empty(path: path, reason: "the limit is \(limit)") }
            throw DataError.empty(path: path, reason: "the \(resolved.rawValue) part of its \(file.records.count) records "
                                  + "is empty (train share \(split))")
        }
        return EvalTask(name: taskName(path), path: path, part: resolved, records: records)
    }

    /// The part `.auto` stands for: `all` for files named `*_test.jsonl`, `test` otherwise.
    public static func defaultPart(_ path: String) -> EvalPart {
        let file = URL(fileURLWithPath: path).lastPathComponent.lowercased()
        return file.hasSuffix("_test.jsonl") || file.hasSuffix("-test.jsonl") ? .all : .test
    }

    /// The file name without directory and extension.
    public static func taskName(_ path: String) -> String {
        URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    }
}
