// The set-up parts of a training run: the output folder, the method settings (with a PEFT start), the
// data and its split, and the descriptive lines (rank map, method) a run reports before its first step.
import Foundation
import SecuraAdapters
import SecuraData
import SecuraIO
import SecuraModel
import SecuraTensor
import SecuraTrain

/// The examples of a run.
struct RunData {
    var train: [TrainingExample]
    var validation: [TrainingExample]
    var padToken: Int32
}

extension TrainingSession {
    /// Creates the output folder (and its checkpoints folder) and proves it can be written, before anything
    /// else is done (`OutputFolder.ensureWritable`: an I/O error naming the folder, exit 74).
    static func prepareOutput(_ url: URL) throws {
        try OutputFolder.ensureWritable(url)
    }

    /// The method settings, with rank, alpha and targets from the PEFT folder of `initAdapter`.
    func methodSettings() throws -> MethodSettings {
        var settings = configuration.method
        guard let initAdapter = configuration.initAdapter else { return settings }
        let peft = try PEFTFormat.settings(PEFTFormat.readConfig(URL(fileURLWithPath: initAdapter)), path: initAdapter)
        guard settings.method.definition.peftForm != nil else {
            let names = AdapterMethod.allCases.filter { $0.definition.peftForm != nil }.map(\.rawValue)
            throw RunSettingError(.initAdapter, "needs the method to be one of \(names.joined(separator: ", ")) (a method with a PEFT form)")
        }
        settings.rank = peft.rank
        settings.alpha = peft.alpha
        settings.targets = peft.targets
        return settings
    }

    /// Reads, splits and tokenizes the task data; reports what was read.
    func loadData(_ context: ModelContext) throws -> RunData {
        let c = configuration
        let tokenizer = try context.tokenizer()
        let file = try DatasetLoader.read(c.data.path, skipBadLines: c.data.skipBadLines)
        let (trainRecords, testRecords) = DatasetSplit.split(file.records, trainFraction: c.data.trainFraction, seed: c.optimizer.seed)
        let builder = try context.promptBuilder(c.prompt)
        let train = try builder.build(trainRecords), validation = try builder.build(testRecords)
        if train.examples.isEmpty, train.dropped > 0 {
            throw RunSettingError(.maxLength, "\(c.prompt.maxLength) tokens leave no answer token in any of the \(trainRecords.count) training records of \(c.data.path) (\(train.dropped) dropped): raise it")
        }
        guard !train.examples.isEmpty else { throw DataError.empty(path: c.data.path) }
        let cut = train.truncated + validation.truncated, dropped = train.dropped + validation.dropped
        note("data: \(c.data.path): \(file.records.count) examples (\(train.examples.count) train, \(validation.examples.count) validation)"
             + (file.skipped.isEmpty ? "" : ", \(file.skipped.count) malformed lines skipped")
             + (cut > 0 ? ", \(cut) cut to \(c.prompt.maxLength) tokens (\(train.tokensCut + validation.tokensCut) tokens)" : "")
             + (dropped > 0 ? ", \(dropped) dropped (no answer token left)" : ""))
        let limit = DataSettings.validationCount(available: validation.examples.count, limit: c.data.validationLimit)
        if limit < validation.examples.count, c.data.validationLimit == nil {
            note("validation loss on the first \(limit) of \(validation.examples.count) held-out examples (the default cap; set the validation limit to change it)")
        }
        return RunData(train: train.examples, validation: Array(validation.examples.prefix(limit)),
                       padToken: Int32(tokenizer.specialTokens.padding ?? tokenizer.specialTokens.eos ?? 0))
    }

    /// Reports the rank → host map and threads per rank; returns each rank's host name (collective).
    func describeRanks() throws -> [String] {
        guard comm.size > 1 else {
            note("1 process, \(BLAS.threads) thread(s) (OpenBLAS \(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"].map { "core " + $0 } ?? "default kernels"))")
            return [comm.hostName]
        }
        let entries = try comm.allGather(string: "\(comm.hostName) local \(comm.localRank)/\(comm.localSize)")
        let hosts = entries.map { $0.split(separator: " ").first.map(String.init) ?? "" }
        note("\(comm.size) ranks on \(Set(hosts).count) node(s), \(BLAS.threads) thread(s) per rank:")
        for (r, e) in entries.enumerated() { note("  rank \(r) → \(e)") }
        return hosts
    }

    /// The method, its sites and trainable counts.
    func describe(_ adapters: AdapterSet, settings: MethodSettings) {
        let perLayer = adapters.trainablePerLayer
        let total = perLayer.reduce(0, +)
        let sites = adapters.plans.prefix(2).map { p in
            "\(p.site.projection.rawValue) [\(p.outFeatures)×\(p.inFeatures)]" + (p.rank > 0 ? " r=\(p.rank)" : "") + (p.innerRank > 0 ? " m=\(p.innerRank)" : "")
        }
        note("method \(settings.method.rawValue) on \(settings.targets.map(\.rawValue).joined(separator: ",")): "
             + "\(total.formatted()) trainable parameters (\(perLayer.first ?? 0) per layer; \(sites.joined(separator: ", ")))")
        if Set(perLayer).count > 1 { note("  trainable per layer: \(perLayer)") }
        if let imsm = settings.imsm {
            note("imsm \(imsm.mode.rawValue) gate: \(adapters.imsmParameterCount.formatted()) trainable parameters"
                 + (imsm.mode == .noGate ? "" : " (r=\(imsm.rank), dropout \(imsm.dropout), lr \(imsm.lr), \(imsm.gate.rawValue) gate)")
                 + "; frozen branch on the original weights; \(adapters.parameters.count.formatted()) trainable in all")
        }
    }
}

/// Appends one JSON object per line to the metrics file.
final class MetricsLog {
    let handle: FileHandle
    let path: String

    /// Opens `path` for appending (a resumed run continues its file). With `fresh`, an existing file is
    /// first moved to `path.previous` (replacing an older one), so a new run starts a new file and the
    /// old lines are kept, not mixed in.
    init(path: String, fresh: Bool) throws {
        let fm = FileManager.default
        if fresh, fm.fileExists(atPath: path) {
            let previous = path + ".previous"
            try? fm.removeItem(atPath: previous)
            do {
                try fm.moveItem(atPath: path, toPath: previous)
            } catch {
                throw IOError.cannotWrite(path: path, reason: "cannot move the previous run's metrics aside (\(error.localizedDescription))")
            }
        }
        if !fm.fileExists(atPath: path), !fm.createFile(atPath: path, contents: nil) {
            throw IOError.cannotWrite(path: path, reason: "cannot create the metrics file")
        }
        guard let h = FileHandle(forWritingAtPath: path) else { throw IOError.cannotWrite(path: path, reason: "cannot open the metrics file") }
        h.seekToEndOfFile()
        handle = h
        self.path = path
    }

    func write(_ record: [String: Any]) throws {
        let data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys])
        // write(contentsOf:) throws; write(_:) traps the process on a full disk (SIGILL, no message).
        do {
            try handle.write(contentsOf: data + Data("\n".utf8))
        } catch {
            throw IOError.cannotWrite(path: path, reason: OutputFolder.reason(error))
        }
    }
}
