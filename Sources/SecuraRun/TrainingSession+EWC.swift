// EWC in a training run: the penalty from the previous task's state (OUTPUT/ewc.safetensors of that task:
// the summed Fisher diagonal and the anchor values θ*), and at the end of the run this task's Fisher estimate
// added to it, with the run's final values as the new anchor, written for the next task.
import Foundation
import SecuraIO
import SecuraModel
import SecuraTrain

extension TrainingSession {
    /// The file a run leaves for the next task's EWC penalty.
    public static let ewcStateName = "ewc.safetensors"

    /// Sets the trainer's penalty from the previous task's state, if the configuration has one.
    func startEWC(_ trainer: Trainer) throws {
        guard let ewc = configuration.ewc, let path = ewc.previousState else { return }
        let (fisher, anchor) = try Self.readEWCState(path)
        let count = trainer.adapters.parameters.count
        guard fisher.count == count, anchor.count == count else {
            throw RunSettingError(.ewcLambda, "\(path) holds \(fisher.count) Fisher values for \(count) trainable values: not a state of this model and method")
        }
        trainer.ewcPenalty = EWCPenalty(lambda: ewc.lambda, fisher: fisher, anchor: anchor)
        note("ewc: penalty λ = \(ewc.lambda) against \(path)")
    }

    /// This task's Fisher estimate on its first training examples, added to the earlier tasks' sum, and the
    /// final values as the anchor: OUTPUT/ewc.safetensors (rank 0 writes; collective).
    func finishEWC(_ trainer: Trainer, train: [TrainingExample], out: URL) throws {
        guard let ewc = configuration.ewc else { return }
        let start = Date()
        var fisher = try trainer.fisherDiagonal(Array(train.prefix(ewc.samples)))
        if let earlier = trainer.ewcPenalty?.fisher {
            for i in fisher.indices { fisher[i] += earlier[i] }
        }
        let params = trainer.adapters.parameters
        let anchor = Array(UnsafeBufferPointer(start: params.values.storage.pointer, count: params.count))
        if comm.isRoot {
            var writer = SafeTensorsWriter(path: out.appendingPathComponent(Self.ewcStateName).path,
                                           metadata: ["format": "secura-dist/ewc-1", "samples": "\(min(ewc.samples, train.count))"])
            try writer.add("fisher", floats: fisher, shape: [fisher.count])
            try writer.add("anchor", floats: anchor, shape: [anchor.count])
            try writer.write()
        }
        note("ewc: Fisher of \(min(ewc.samples, train.count)) examples in " + String(format: "%.1f s", Date().timeIntervalSince(start)))
    }

    static func readEWCState(_ path: String) throws -> (fisher: [Float], anchor: [Float]) {
        let file = try SafeTensorsFile(path: path)
        return (try file.floats("fisher"), try file.floats("anchor"))
    }
}
