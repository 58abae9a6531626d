// Checkpoints and adapter folders. A folder holds `state.json` (what was trained, how far, with which
// settings) and `state.safetensors` (trainable values; optimizer moments in checkpoints; merged fp32
// master weights for SECURA-M1; I-LoRA's EMA copy; SECURA-M2's long-term pair). Folders are written
// under a temporary name and renamed, so a crash never leaves a half-written checkpoint. The data
// position is a global sample index, so a run resumes on any rank count.
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraIO
import SecuraModel
import SecuraTensor

/// `state.json`.
public struct RunState: Codable, Sendable, Equatable {
    public static let currentFormat = "secura-dist/state-1"
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
}

public enum CheckpointError: Error, CustomStringConvertible {
    case missing(path: String)
    case incompatible(path: String, reason: String)

    public var description: String {
        switch self {
        case let .missing(path): return "\(path): no checkpoint or adapter state here (expected state.json and state.safetensors)"
        case let .incompatible(path, reason): return "\(path): \(reason)"
        }
    }
}

public enum Checkpoint {
    /// Writes the trainer's state to `folder` atomically (optimizer moments when `optimizer`).
    public static func save(_ trainer: Trainer, modelPath: String, to folder: URL, optimizer: Bool) throws {
        let fm = FileManager.default
        let parent = folder.deletingLastPathComponent()
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw IOError.cannotWrite(path: parent.path, reason: "cannot create the folder (\(error.localizedDescription))")
        }
        let temporary = parent.appendingPathComponent(".\(folder.lastPathComponent).partial-\(getpid())")
        try? fm.removeItem(at: temporary)
        do {
            try fm.createDirectory(at: temporary, withIntermediateDirectories: false)
        } catch {
            throw IOError.cannotWrite(path: temporary.path, reason: error.localizedDescription)
        }
        do {
            let a = trainer.adapters
            var w = SafeTensorsWriter(path: temporary.appendingPathComponent("state.safetensors").path,
                                      metadata: ["format": RunState.currentFormat])
            for e in a.parameters.layout.entries {
                try w.add("param/" + e.name, floats: a.parameters.values.values(e.name)!, shape: e.shape)
                if optimizer {
                    try w.add("adam_m/" + e.name, floats: Array(UnsafeBufferPointer(start: trainer.optimizer.m.pointer + e.offset, count: e.count)), shape: e.shape)
                    try w.add("adam_v/" + e.name, floats: Array(UnsafeBufferPointer(start: trainer.optimizer.v.pointer + e.offset, count: e.count)), shape: e.shape)
                }
                if let long = a.longTerm {
                    try w.add("long/" + e.name, floats: long.values.values(e.name)!, shape: e.shape)
                }
            }
            for (site, master) in a.masters.sorted(by: { $0.key < $1.key }) {
                let d = a.cabr[site]!
                try w.add("master/" + site.weightName, floats: master.toArray(), shape: [d.outFeatures, d.inFeatures])
            }
            for (site, d) in a.cabr.sorted(by: { $0.key < $1.key }) {
                if let la = d.longA, let lb = d.longB {
                    let names = CABRDelta.names(site)
                    try w.add("long/" + names.a, floats: la.toArray(), shape: [d.rank, d.innerRank])
                    try w.add("long/" + names.b, floats: lb.toArray(), shape: [d.innerRank, d.rank])
                }
            }
            try w.write()
            let state = RunState(step: trainer.step, samplesSeen: trainer.step * trainer.options.batchSize,
                                 skippedSteps: trainer.skippedSteps, adamStep: trainer.optimizer.step, model: modelPath,
                                 method: a.settings, training: trainer.options,
                                 trainableParameters: a.parameters.count, hasOptimizerState: optimizer)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(state).write(to: temporary.appendingPathComponent("state.json"), options: .atomic)
            // Replace any previous folder of that name only once the new one is complete.
            if fm.fileExists(atPath: folder.path) {
                let old = parent.appendingPathComponent(".\(folder.lastPathComponent).old-\(getpid())")
                try fm.moveItem(at: folder, to: old)
                try fm.moveItem(at: temporary, to: folder)
                try? fm.removeItem(at: old)
            } else {
                try fm.moveItem(at: temporary, to: folder)
            }
        } catch {
            try? fm.removeItem(at: temporary)
            if error is IOError { throw error }
            throw IOError.cannotWrite(path: folder.path, reason: "\(error)")
        }
    }

    /// Reads `state.json` of a checkpoint or adapter folder.
    public static func readState(_ folder: URL) throws -> RunState {
        let url = folder.appendingPathComponent("state.json")
        guard let data = try? Data(contentsOf: url) else { throw CheckpointError.missing(path: folder.path) }
        do {
            let state = try JSONDecoder().decode(RunState.self, from: data)
            guard state.format == RunState.currentFormat else {
                throw CheckpointError.incompatible(path: url.path, reason: "format '\(state.format)' is not '\(RunState.currentFormat)'")
            }
            return state
        } catch let e as CheckpointError {
            throw e
        } catch {
            throw CheckpointError.incompatible(path: url.path, reason: "unreadable state (\(error))")
        }
    }

    /// Restores trainable values (and, when present and wanted, optimizer moments, EMA and merged weights)
    /// from `folder` into `adapters` / `optimizer`.
    /// Collective over the node when the method has merge targets (they are node-shared).
    public static func restore(_ folder: URL, into adapters: AdapterSet, optimizer: AdamW?,
                               comm: Communicator = SingleProcessCommunicator()) throws {
        let file = try SafeTensorsFile(path: folder.appendingPathComponent("state.safetensors").path)
        func load(_ name: String, into p: UnsafeMutablePointer<Float>, count: Int) throws {
            let values = try file.floats(name)
            guard values.count == count else {
                throw CheckpointError.incompatible(path: file.path, reason: "tensor '\(name)' has \(values.count) values, expected \(count)")
            }
            p.update(from: values, count: count)
        }
        for e in adapters.parameters.layout.entries {
            try load("param/" + e.name, into: adapters.parameters.values.storage.pointer + e.offset, count: e.count)
            if let optimizer, file.contains("adam_m/" + e.name) {
                try load("adam_m/" + e.name, into: optimizer.m.pointer + e.offset, count: e.count)
                try load("adam_v/" + e.name, into: optimizer.v.pointer + e.offset, count: e.count)
            }
            if let long = adapters.longTerm {
                try load("long/" + e.name, into: long.values.storage.pointer + e.offset, count: e.count)
            }
        }
        // Merge targets are node-shared: each rank writes its row shard, then a node barrier.
        for (site, master) in adapters.masters.sorted(by: { $0.key < $1.key }) {
            let values = try file.floats("master/" + site.weightName)
            guard values.count == master.count else {
                throw CheckpointError.incompatible(path: file.path, reason: "tensor 'master/\(site.weightName)' has "
                    + "\(values.count) values, expected \(master.count)")
            }
            let shard = comm.nodeShard(rows: master.rows, panel: masterPanelRows)
            values.withUnsafeBufferPointer {
                (master.pointer + shard.lowerBound * master.columns).update(
                    from: $0.baseAddress! + shard.lowerBound * master.columns, count: shard.count * master.columns)
            }
        }
        if !adapters.masters.isEmpty { try comm.nodeBarrier() }
        for (site, d) in adapters.cabr {
            if let la = d.longA, let lb = d.longB {
                let names = CABRDelta.names(site)
                try load("long/" + names.a, into: la.pointer, count: la.count)
                try load("long/" + names.b, into: lb.pointer, count: lb.count)
            }
        }
    }

    /// The newest complete checkpoint folder under `folder` (named step-NNNNNNNN), or nil.
    public static func latest(in folder: URL) -> URL? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasPrefix("step-") }
            .compactMap { name -> (Int, URL)? in
                guard let n = Int(name.dropFirst(5)) else { return nil }
                let url = folder.appendingPathComponent(name)
                guard FileManager.default.fileExists(atPath: url.appendingPathComponent("state.json").path) else { return nil }
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
        let state = try Checkpoint.readState(folder)
        guard state.method == adapters.settings else {
            throw CheckpointError.incompatible(path: folder.path, reason: "it was trained with other method settings (\(state.method.method.rawValue))")
        }
        guard state.training.batchSize == options.batchSize else {
            throw CheckpointError.incompatible(path: folder.path, reason: "it used --batch-size \(state.training.batchSize), this run \(options.batchSize); the data position would not match")
        }
        guard state.trainableParameters == adapters.parameters.count, state.hasOptimizerState else {
            throw CheckpointError.incompatible(path: folder.path, reason: "it holds \(state.trainableParameters) trainable values\(state.hasOptimizerState ? "" : " and no optimizer state"); this run has \(adapters.parameters.count)")
        }
        try Checkpoint.restore(folder, into: adapters, optimizer: optimizer, comm: comm)
        step = state.step
        skippedSteps = state.skippedSteps
        optimizer.step = state.adamStep
        return state
    }
}
