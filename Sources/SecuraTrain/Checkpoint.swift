// Checkpoints and adapter folders. A folder holds `state.json` (what was trained, how far, with which
// settings), `state.safetensors` (every replicated entry of the run's RunStateLayout: trainable values,
// optimizer moments in checkpoints, the method's own tensors such as I-LoRA's EMA copy) and the
// node-shared merge masters (SECURA-M1) in one `masters-rank*.safetensors` file per writing rank
// (CheckpointMasters.swift). Folders are written
// under a temporary name and renamed, so a crash never leaves a half-written checkpoint. The data
// position is a global sample index and the masters are reassembled from row ranges, so a run resumes
// on any rank count.
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraIO
import SecuraModel
import SecuraTensor

/// `state.json`.
public struct RunState: Codable, Sendable, Equatable {
    /// state-3: state-2 plus a checksum of every tensor in each safetensors file's metadata
    /// (CheckpointIntegrity.swift). state-2 (still read): SECURA-M1's masters are in per-rank
    /// `masters-rank*.safetensors` files listed in `masterFiles`; state-1 kept them in state.safetensors.
    public static let currentFormat = "secura-dist/state-3"
    /// Every format `readState` accepts.
    public static let readableFormats = ["secura-dist/state-1", "secura-dist/state-2", "secura-dist/state-3"]
    public var format = RunState.currentFormat
    /// Optimizer steps completed.
    public var step: Int
    /// Global samples consumed (step × batch size).
    public var samplesSeen: Int
    public var skippedSteps: Int
    public var adamStep: Int
    public var model: String
    public var method: MethodSettings
    public var training: TrainingOptions
    public var trainableParameters: Int
    public var hasOptimizerState: Bool
    /// The master-row files (state-2); nil in state-1 folders and for methods without masters.
    public var masterFiles: [String]? = nil
}

public enum CheckpointError: Error, CustomStringConvertible {
    case missing(path: String)
    case incompatible(path: String, reason: String)
    /// A tensor's bytes do not match the checksum stored when it was written (or the sum is missing).
    case corrupted(path: String, tensor: String, reason: String)
    /// The run's output folder (or a subfolder it needs) cannot be created or written.
    case outputNotWritable(path: String, reason: String)
    /// `--resume auto` found checkpoints in `path`, but every one is damaged (`reasons`, newest first).
    case noUsableCheckpoint(path: String, reasons: [String])

    public var description: String {
        switch self {
        case let .outputNotWritable(path, reason):
            return "\(path): the output folder is not writable (\(reason)); nothing was trained"
        case let .corrupted(path, tensor, reason):
            return "\(path): tensor '\(tensor)' is damaged: \(reason); the file changed after it was written "
                + "(resume from an earlier checkpoint with --resume FOLDER)"
        case let .noUsableCheckpoint(path, reasons):
            let newest = reasons.first.map { " (the newest, \($0))" } ?? ""
            return "\(path): all \(reasons.count) checkpoints are damaged, none to resume from\(newest); "
                + "remove them or resume from another folder with --resume FOLDER"
        case let .missing(path): return "\(path): no checkpoint or adapter state here (expected state.json and state.safetensors)"
        case let .incompatible(path, reason): return "\(path): \(reason)"
        }
    }
}

public enum Checkpoint {
    /// Writes the trainer's state to `folder` atomically (optimizer moments when `optimizer`).
    ///
    /// Collective over the world: every rank calls it. Rank 0 creates the temporary folder (named after
    /// its pid, which it broadcasts so every rank uses the same one) and writes state.safetensors; the
    /// ranks on rank 0's node write their master rows (CheckpointMasters.swift); after the ranks agree
    /// that every write succeeded, rank 0 checks that the files cover every master row exactly once,
    /// writes state.json and renames the folder into place. A failure on any rank removes the temporary
    /// folder and throws on every rank; `folder` (a previous checkpoint of that name) is then untouched.
    public static func save(_ trainer: Trainer, modelPath: String, to folder: URL, optimizer: Bool) throws {
        try save(trainer, modelPath: modelPath, to: folder, optimizer: optimizer, injectingFailure: nil)
    }

    /// `save`, with `injectingFailure(rank)` called on every rank after its files are written (tests).
    static func save(_ trainer: Trainer, modelPath: String, to folder: URL, optimizer: Bool,
                     injectingFailure: ((Int) throws -> Void)?) throws {
        let comm = trainer.comm
        let fm = FileManager.default
        let parent = folder.deletingLastPathComponent()
        // 1. Rank 0 prepares the temporary folder and tells every rank its name (or that it failed).
        var ticket = [0, 0]
        var failure: Error?
        if comm.isRoot {
            let temporary = parent.appendingPathComponent(".\(folder.lastPathComponent).partial-\(getpid())")
            do {
                do {
                    try fm.createDirectory(at: parent, withIntermediateDirectories: true)
                } catch {
                    throw IOError.cannotWrite(path: parent.path, reason: "cannot create the folder (\(error.localizedDescription))")
                }
                try? fm.removeItem(at: temporary)
                do {
                    try fm.createDirectory(at: temporary, withIntermediateDirectories: false)
                } catch {
                    throw IOError.cannotWrite(path: temporary.path, reason: error.localizedDescription)
                }
                ticket = [1, Int(getpid())]
            } catch { failure = error }
        }
        try comm.broadcast(&ticket, root: 0)
        guard ticket[0] == 1 else {
            throw failure ?? IOError.cannotWrite(path: folder.path, reason: "rank 0 could not create the temporary folder")
        }
        let temporary = parent.appendingPathComponent(".\(folder.lastPathComponent).partial-\(ticket[1])")
        let layout = RunStateLayout(trainer.adapters, optimizer: optimizer ? trainer.optimizer : nil)

        // 2. Every rank writes its part; then all agree whether every rank succeeded.
        let writesMasters = try !layout.nodeShared.isEmpty && CheckpointMasters.writesMasters(comm)
        do {
            if comm.isRoot { try writeValues(layout, to: temporary) }
            if writesMasters { _ = try CheckpointMasters.write(layout.nodeShared, comm: comm, to: temporary) }
            try injectingFailure?(comm.rank)
        } catch { failure = error }
        var failed: [Float] = [failure == nil ? 0 : 1]
        try comm.allReduceMax(&failed)

        // 3. Rank 0 checks the master files, writes state.json and renames; every rank learns the outcome.
        var committed = [0]
        if comm.isRoot {
            do {
                if failed[0] == 0 {
                    try commit(trainer, layout, modelPath: modelPath, temporary: temporary, to: folder, optimizer: optimizer)
                    committed = [1]
                }
            } catch { failure = error }
            if committed[0] == 0 { try? fm.removeItem(at: temporary) } else { removeLeftovers(in: parent) }
        }
        try comm.broadcast(&committed, root: 0)
        guard committed[0] == 1 else {
            if let failure {
                if failure is IOError || failure is CheckpointError { throw failure }
                throw IOError.cannotWrite(path: folder.path, reason: "\(failure)")
            }
            throw IOError.cannotWrite(path: folder.path, reason: "another rank failed to write its part of the checkpoint (see its error)")
        }
    }

    /// state.safetensors: every replicated entry of the run's layout (rank 0).
    private static func writeValues(_ layout: RunStateLayout, to temporary: URL) throws {
        var w = SafeTensorsWriter(path: temporary.appendingPathComponent("state.safetensors").path,
                                  metadata: ["format": RunState.currentFormat])
        for e in layout.replicated {
            let values = e.toArray()
            try w.add(e.name, floats: values, shape: e.shape)
            values.withUnsafeBytes { CheckpointIntegrity.stamp(&w, e.name, $0) }
        }
        try w.write()
    }

    /// Rank 0, once every rank has written: validates the master files, writes state.json, renames.
    private static func commit(_ trainer: Trainer, _ layout: RunStateLayout, modelPath: String, temporary: URL,
                               to folder: URL, optimizer: Bool) throws {
        let fm = FileManager.default
        let a = trainer.adapters
        let masterFiles = try fm.contentsOfDirectory(atPath: temporary.path)
            .filter { $0.hasPrefix("masters-rank") && $0.hasSuffix(".safetensors") }.sorted()
        _ = try CheckpointMasters.pieces(in: temporary, listed: masterFiles, legacy: nil,
                                         expected: CheckpointMasters.shapes(layout.nodeShared), checksums: true)
        let state = RunState(step: trainer.step, samplesSeen: trainer.step * trainer.options.batchSize,
                             skippedSteps: trainer.skippedSteps, adamStep: trainer.optimizer.step, model: modelPath,
                             method: a.settings, training: trainer.options,
                             trainableParameters: a.parameters.count, hasOptimizerState: optimizer,
                             masterFiles: masterFiles)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        // AtomicFileWriter names the file on failure (a full disk); Data.write's error does not.
        let stateFile = try AtomicFileWriter(path: temporary.appendingPathComponent("state.json").path)
        try stateFile.write(Array(try encoder.encode(state)))
        try stateFile.commit()
        // Replace any previous folder of that name only once the new one is complete.
        let parent = folder.deletingLastPathComponent()
        if fm.fileExists(atPath: folder.path) {
            let old = parent.appendingPathComponent(".\(folder.lastPathComponent).old-\(getpid())")
            try? fm.removeItem(at: old)
            try fm.moveItem(at: folder, to: old)
            try fm.moveItem(at: temporary, to: folder)
            try? fm.removeItem(at: old)
        } else {
            try fm.moveItem(at: temporary, to: folder)
        }
        // The renames are durable once the parent folder's entries are on disk.
        try AtomicFileWriter.syncFolder(parent.path)
    }

    /// Reads `state.json` of a checkpoint or adapter folder.
    public static func readState(_ folder: URL) throws -> RunState {
        let url = folder.appendingPathComponent("state.json")
        guard let data = try? Data(contentsOf: url) else { throw CheckpointError.missing(path: folder.path) }
        return try decodeState(data, path: url.path)
    }

    /// Decodes the bytes of a `state.json`; `path` names it in errors.
    public static func decodeState(_ data: Data, path: String) throws -> RunState {
        do {
            let state = try JSONDecoder().decode(RunState.self, from: data)
            guard RunState.readableFormats.contains(state.format) else {
                throw CheckpointError.incompatible(path: path, reason: "format '\(state.format)' is not one this version reads (\(RunState.readableFormats.joined(separator: ", ")))")
            }
            return state
        } catch let e as CheckpointError {
            throw e
        } catch DecodingError.dataCorrupted(let context) {
            if let problem = JSONFractionLocator.placedProblem(RunState.self, in: data) {
                throw CheckpointError.incompatible(path: path, reason: "unreadable state: \(problem)")
            }
            throw CheckpointError.incompatible(path: path, reason: "unreadable state (\(context.debugDescription))")
        } catch {
            throw CheckpointError.incompatible(path: path, reason: "unreadable state (\(error))")
        }
    }

    /// Restores trainable values (and, when present and wanted, optimizer moments, EMA and merged weights)
    /// from `folder` into `adapters` / `optimizer`.
    /// Collective over the node when the method has merge targets (they are node-shared).
    public static func restore(_ folder: URL, into adapters: AdapterSet, optimizer: AdamW?,
                               comm: Communicator = SingleProcessCommunicator()) throws {
        let state = try readState(folder)
        let file = try SafeTensorsFile(path: folder.appendingPathComponent("state.safetensors").path)
        try CheckpointIntegrity.verify(file, required: state.hasChecksums)
        func load(_ name: String, into p: UnsafeMutablePointer<Float>, count: Int) throws {
            let values = try file.floats(name)
            guard values.count == count else {
                throw CheckpointError.incompatible(path: file.path, reason: "tensor '\(name)' has \(values.count) values, expected \(count)")
            }
            p.update(from: values, count: count)
        }
        let layout = RunStateLayout(adapters, optimizer: optimizer)
        for e in layout.replicated {
            // Adapter folders hold no optimizer moments; a resume checks `hasOptimizerState` first.
            if e.kind == .adamFirstMoment || e.kind == .adamSecondMoment, !file.contains(e.name) { continue }
            try load(e.name, into: e.pointer, count: e.count)
        }
        // Merge targets are node-shared: each rank copies its row shard, then a node barrier.
        let shared = layout.nodeShared
        if !shared.isEmpty {
            let pieces = try CheckpointMasters.pieces(in: folder, listed: state.masterFiles, legacy: file,
                                                      expected: CheckpointMasters.shapes(shared), checksums: state.hasChecksums)
            try CheckpointMasters.restore(shared, from: pieces, comm: comm)
        }
    }

    /// The newest complete checkpoint folder under `folder` (named step-NNNNNNNN, holding state.json and
    /// state.safetensors), or nil. Folders being written are hidden (".step-N.partial-PID") until their
    /// rename, so a writer killed mid-way leaves the previous checkpoint as the newest.
    public static func latest(in folder: URL) -> URL? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasPrefix("step-") }
            .compactMap { name -> (Int, URL)? in
                guard let n = Int(name.dropFirst(5)) else { return nil }
                let url = folder.appendingPathComponent(name)
                guard ["state.json", "state.safetensors"].allSatisfy({
                    FileManager.default.fileExists(atPath: url.appendingPathComponent($0).path)
                }) else { return nil }
                return (n, url)
            }
            .max { $0.0 < $1.0 }?.1
    }

    /// Folder name of the checkpoint after `step` optimizer steps.
    public static func name(step: Int) -> String { String(format: "step-%08d", step) }
}

extension Trainer {
    /// Continues from a checkpoint: trainable values, optimizer state, merged weights, step and data position.
    /// - Throws: when the checkpoint was made with another method, batch size or parameter layout.
    @discardableResult
    public func resume(from folder: URL) throws -> RunState {
        let state = try restoreState(folder, methodNote: "") { state in
            guard state.training.batchSize == options.batchSize else {
                throw CheckpointError.incompatible(path: folder.path, reason: "it used --batch-size \(state.training.batchSize), this run \(options.batchSize); the data position would not match")
            }
        }
        step = state.step
        skippedSteps = state.skippedSteps
        return state
    }

    /// Reads `folder`'s state.json, checks that this run can take the state (the same method settings and
    /// trainable count, optimizer state present, then `check`), restores every tensor and AdamW's step count.
    func restoreState(_ folder: URL, methodNote: String, check: (RunState) throws -> Void = { _ in }) throws -> RunState {
        let state = try Checkpoint.readState(folder)
        guard state.method == adapters.settings else {
            throw CheckpointError.incompatible(path: folder.path, reason: "it was trained with other method settings (\(state.method.method.rawValue))\(methodNote)")
        }
        try check(state)
        guard state.trainableParameters == adapters.parameters.count, state.hasOptimizerState else {
            throw CheckpointError.incompatible(path: folder.path, reason: "it holds \(state.trainableParameters) trainable values\(state.hasOptimizerState ? "" : " and no optimizer state"); this run has \(adapters.parameters.count)")
        }
        try Checkpoint.restore(folder, into: adapters, optimizer: optimizer, comm: comm)
        optimizer.step = state.adamStep
        return state
    }
}
