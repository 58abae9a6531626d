// Elastic Weight Consolidation (Kirkpatrick et al. 2017) for a sequence of tasks: after each task, a diagonal
// Fisher estimate F from squared gradients of the per-example loss; while training later tasks, the penalty
// (λ/2)·Σ_i F_i·(θ_i − θ*_i)² on the trainable values, θ* being the values at the end of the previous task.
// Variant: the Fisher estimates of the tasks are summed (not the online variant with decay), with one anchor,
// the latest θ*, as in the "online" formulation's single penalty but without forgetting old tasks' F.
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraModel

/// The EWC penalty's state: the summed Fisher diagonal and the anchor, one value per trainable value.
public struct EWCPenalty: Sendable {
    public let lambda: Double
    public let fisher: [Float]
    public let anchor: [Float]

    public init(lambda: Double, fisher: [Float], anchor: [Float]) {
        precondition(fisher.count == anchor.count, "EWC: Fisher and anchor differ in length")
        self.lambda = lambda
        self.fisher = fisher
        self.anchor = anchor
    }

    /// The penalty at `values`, (λ/2)·Σ F_i (θ_i − θ*_i)², in Double.
    public func value(_ values: UnsafePointer<Float>, count: Int) -> Double {
        precondition(count == fisher.count, "EWC: \(fisher.count) Fisher values for \(count) trainable values")
        var sum = 0.0
        for i in 0..<count {
            let d = Double(values[i]) - Double(anchor[i])
            sum += Double(fisher[i]) * d * d
        }
        return 0.5 * lambda * sum
    }

    /// Adds the penalty's gradient λ·F_i·(θ_i − θ*_i) to `gradients` and returns the penalty's value. The same
    /// arithmetic on every rank: identical values give identical results.
    public func apply(values: UnsafePointer<Float>, gradients: UnsafeMutablePointer<Float>, count: Int) -> Double {
        precondition(count == fisher.count, "EWC: \(fisher.count) Fisher values for \(count) trainable values")
        var sum = 0.0
        for i in 0..<count {
            let d = Double(values[i]) - Double(anchor[i])
            let f = Double(fisher[i])
            sum += f * d * d
            gradients[i] = Float(Double(gradients[i]) + lambda * f * d)
        }
        return 0.5 * lambda * sum
    }
}

extension Trainer {
    /// The diagonal Fisher estimate on `examples`: the mean over examples of the squared gradient of each
    /// example's mean token loss, with respect to every trainable value. Examples are dealt to ranks (example
    /// i to rank i mod N) and their squares summed in Double with one all-reduce, so the estimate does not
    /// depend on the rank count. Collective.
    public func fisherDiagonal(_ examples: [TrainingExample]) throws -> [Float] {
        let params = adapters.parameters
        let n = params.count
        var acc = [Double](repeating: 0, count: n)
        let g = params.gradients.storage.pointer
        for i in stride(from: comm.rank, to: examples.count, by: comm.size) {
            let (batch, targets) = TokenBatch.padded([examples[i]], padToken: options.padToken)
            try model.validate(batch)
            adapters.context.rowSeeds = AdapterContext.rowSeeds(seed: options.seed, step: 0, samples: [i], length: batch.length)
            let a = activations(batch)
            model.forward(batch, into: a, training: true)
            let (_, count) = model.crossEntropy(a, targets: targets)
            guard count > 0 else { continue }
            params.gradients.zero()
            model.backward(batch, acts: a, targets: targets, lossWeight: 1, gradients: params.gradients, logitGradient: nil)
            let scale = 1 / Double(count)
            for j in 0..<n {
                let d = Double(g[j]) * scale
                acc[j] += d * d
            }
        }
        try comm.allReduceSum(&acc)
        params.gradients.zero()
        let inv = 1 / Double(max(1, examples.count))
        return acc.map { Float($0 * inv) }
    }
}

extension EWCPenalty {
    /// Bytes per trainable value that EWC holds on a rank at its peak, the end of a task: the penalty's Fisher
    /// and anchor from the earlier tasks (with `hasPenalty`), plus the larger of `Trainer.fisherDiagonal`'s
    /// Double accumulator with the Float estimate it returns, and what the run then writes to ewc.safetensors
    /// (the summed Fisher and a copy of the values as the anchor). The number of Fisher examples changes
    /// the time, not the memory.
    public static func peakBytesPerValue(hasPenalty: Bool) -> Int {
        let float = MemoryLayout<Float>.stride, double = MemoryLayout<Double>.stride
        let penalty = hasPenalty ? 2 * float : 0   // fisher, anchor
        let estimate = double + float              // acc, and acc.map { Float }
        let nextState = 2 * float                  // fisher (+ earlier), anchor
        return penalty + max(estimate, nextState)
    }
}
