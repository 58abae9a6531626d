// Experience replay in a training run: the previous task's buffer (OUTPUT/replay.json of that task) mixed into
// every batch, and at the end of the run this task's training examples offered to the reservoir and the
// buffer written for the next task. Every rank computes the same buffer; rank 0 writes it.
import Foundation
import SecuraModel
import SecuraTrain

extension TrainingSession {
    /// The file a run leaves for the next task's replay.
    public static let replayBufferName = "replay.json"

    /// Mixes the previous task's buffer into the trainer's batches, if the configuration has one.
    func startReplay(_ trainer: Trainer) throws {
        guard let replay = configuration.replay, let path = replay.previousBuffer else { return }
        let buffer = try Self.readReplayBuffer(path)
        let mix = ReplayMix(buffer: buffer.examples, ratio: replay.ratio, batchSize: configuration.optimizer.batchSize,
                            seed: configuration.optimizer.seed)
        trainer.replay = mix
        note("replay: \(mix.perBatch) of every \(configuration.optimizer.batchSize) sequences from \(buffer.examples.count) earlier examples (\(path))")
    }

    /// Offers this task's training examples to the buffer and writes OUTPUT/replay.json (rank 0).
    func finishReplay(train: [TrainingExample], out: URL) throws {
        guard let replay = configuration.replay else { return }
        var buffer = try replay.previousBuffer.map(Self.readReplayBuffer) ?? ReplayBuffer(capacity: replay.size)
        guard buffer.capacity == replay.size else {
            throw RunSettingError(.replaySize, "\(replay.size), but the previous task's buffer holds up to \(buffer.capacity) examples")
        }
        buffer.offer(train, seed: configuration.optimizer.seed)
        if comm.isRoot {
            try JSONText.encoder().encode(buffer).write(to: out.appendingPathComponent(Self.replayBufferName), options: .atomic)
        }
        note("replay: buffer of \(buffer.examples.count) examples (\(buffer.seen) seen) for the next task")
    }

    static func readReplayBuffer(_ path: String) throws -> ReplayBuffer {
        do {
            return try JSONText.decoder().decode(ReplayBuffer.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw RunSettingError(.replaySize, "\(path): not a replay buffer (\(error))")
        }
    }
}
