// Which checkpoint `--resume auto` takes: the newest one that is whole. A checkpoint damaged after it
// was written (a flipped bit, a truncated or missing file, an unreadable state.json) is reported and
// passed over for the next older one, so one bad folder does not stop a run that has good ones; only
// when every checkpoint is damaged is it an error (starting from scratch would silently lose them).
import Foundation
import SecuraIO

extension Checkpoint {
    /// Why `folder` cannot be resumed from, or nil when it is whole: state.json reads in a known format,
    /// and state.safetensors and every master file it lists open and match their checksums.
    /// Reads every byte of the folder's tensors.
    public static func damage(in folder: URL) -> String? {
        do {
            let state = try readState(folder)
            let files = ["state.safetensors"] + (state.masterFiles ?? [])
            for name in files {
                let path = folder.appendingPathComponent(name).path
                guard FileManager.default.fileExists(atPath: path) else { return "\(path): the file is missing" }
                try CheckpointIntegrity.verify(try SafeTensorsFile(path: path), required: state.hasChecksums)
            }
            return nil
        } catch let CheckpointError.corrupted(path, tensor, reason) {
            // Without the advice of the error's own message: falling back is what the caller does.
            return "\(path): tensor '\(tensor)' is damaged: \(reason)"
        } catch {
            return "\(error)"
        }
    }

    /// The newest checkpoint folder (step-NNNNNNNN) under `folder` that is whole (`damage(in:)` is nil),
    /// or nil when there is no checkpoint at all. Each newer, damaged one is passed to `skipped` with
    /// the reason, newest first.
    ///
    /// - Throws: `CheckpointError.noUsableCheckpoint` when there are checkpoints but all are damaged.
    public static func newestUsable(in folder: URL, skipped: (URL, String) -> Void) throws -> URL? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        let steps = names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix("step-"), let n = Int(name.dropFirst(5)) else { return nil }
            return (n, folder.appendingPathComponent(name))
        }.sorted { $0.0 > $1.0 }
        var reasons: [String] = []
        for (_, checkpoint) in steps {
            guard let reason = damage(in: checkpoint) else { return checkpoint }
            skipped(checkpoint, reason)
            reasons.append("\(checkpoint.lastPathComponent): \(reason)")
        }
        if steps.isEmpty { return nil }
        throw CheckpointError.noUsableCheckpoint(path: folder.path, reasons: reasons)
    }
}

extension Trainer {
    /// Starts this run from another run's final checkpoint, as the next task of a sequence without fusion
    /// does: trainable values, AdamW's moments and step count (so its bias correction goes on as in one long
    /// run), the method's own tensors (I-LoRA's EMA copy, SECURA-M2's long pairs) and SECURA-M1's merge
    /// masters. The step counter, the data position and the learning-rate schedule stay at this run's start:
    /// it is a new task. Collective over the node when the method has masters.
    /// - Throws: `CheckpointError.incompatible` when the checkpoint has other method settings, another
    ///   trainable count or no optimizer state; the loader's errors.
    @discardableResult
    public func start(fromFinalStateOf folder: URL) throws -> RunState {
        try restoreState(folder, methodNote: "; a sequence carries one method's state from task to task")
    }
}
