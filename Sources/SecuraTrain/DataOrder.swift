// The deterministic sampler: global sample index g → example, independent of the rank count.
// Epoch e = g / n visits the examples in a seeded permutation; step k's global batch is
// g ∈ [k·B, (k+1)·B), cut into micro-batches that are dealt to ranks round-robin.
import SecuraTensor

public final class DataOrder {
    public let count: Int
    public let seed: UInt64
    private var cachedEpoch = -1
    private var permutation: [Int] = []

    public init(count: Int, seed: UInt64) {
        precondition(count > 0, "no training examples")
        self.count = count
        self.seed = seed
    }

    /// The example index of global sample `g`.
    public func example(at g: Int) -> Int {
        let epoch = g / count
        if epoch != cachedEpoch {
            var rng = SeededRandom(seed: seed ^ (0xA076_1D64_78BD_642F &* UInt64(epoch + 1)))
            permutation = Array(0..<count)
            for i in stride(from: count - 1, to: 0, by: -1) {
                let j = Int(rng.next() % UInt64(i + 1))
                permutation.swapAt(i, j)
            }
            cachedEpoch = epoch
        }
        return permutation[g % count]
    }

    /// The micro-batches of step `step` that rank `rank` of `ranks` processes: the global batch
    /// [k·B, (k+1)·B) is cut into micro-batches of `microBatch` consecutive samples, and micro-batch j goes
    /// to rank j mod N. Every micro-batch is thus the same for any rank count.
    public static func microBatches(step: Int, batchSize: Int, microBatch: Int, rank: Int, ranks: Int) -> [[Int]] {
        let start = step * batchSize
        let count = (batchSize + microBatch - 1) / microBatch
        return stride(from: rank, to: count, by: ranks).map { j in
            Array((start + j * microBatch)..<min(start + batchSize, start + (j + 1) * microBatch))
        }
    }
}
