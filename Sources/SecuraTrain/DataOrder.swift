// The deterministic sampler: global sample index g → example, independent of the rank count.
// Epoch e = g / n visits the examples in a seeded permutation; step k's global batch is
// g ∈ [k·B, (k+1)·B), cut into micro-batches that are dealt to ranks round-robin.
import SecuraErrors
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

    /// The largest global batch (sequences per optimizer step) a run may ask for: far above any CPU run
    /// (a step of 2²⁰ sequences of 512 tokens is half a billion tokens), far below what would exhaust
    /// memory just listing the step's sample indices.
    public static let maxBatchSize = 1 << 20

    /// Throws unless `batchSize` is in 1...maxBatchSize, `microBatch` is at least 1 (larger than the
    /// batch means one micro-batch), and the sample index of the last of `steps` steps fits an Int.
    /// - Throws: `TrainingError.settingOutOfRange` naming the setting.
    public static func validate(batchSize: Int, microBatch: Int, steps: Int = 1) throws {
        guard (1...maxBatchSize).contains(batchSize) else {
            throw TrainingError.settingOutOfRange(TrainingError.batchSize, found: "\(batchSize)", expected: "in 1...\(maxBatchSize)")
        }
        guard microBatch >= 1 else {
            throw TrainingError.settingOutOfRange(TrainingError.microBatch, found: "\(microBatch)", expected: "at least 1")
        }
        guard !max(1, steps).multipliedReportingOverflow(by: batchSize).overflow else {
            throw TrainingError.settingOutOfRange(TrainingError.batchSize, found: "\(batchSize)",
                                                  expected: "small enough that \(steps) steps of it count below 2⁶³ samples")
        }
    }

    /// The micro-batches of step `step` that rank `rank` of `ranks` processes: the global batch
    /// [k·B, (k+1)·B) is cut into micro-batches of `microBatch` consecutive samples, and micro-batch j goes
    /// to rank j mod N. Every micro-batch is thus the same for any rank count.
    /// - Throws: `TrainingError.settingOutOfRange` for sizes `validate` refuses, before allocating.
    public static func microBatches(step: Int, batchSize: Int, microBatch: Int, rank: Int, ranks: Int) throws -> [[Int]] {
        try validate(batchSize: batchSize, microBatch: microBatch, steps: step + 1)
        precondition(ranks >= 1 && (0..<ranks).contains(rank), "rank \(rank) outside 0..<\(ranks)")
        let start = step * batchSize
        let count = (batchSize + microBatch - 1) / microBatch
        return stride(from: rank, to: count, by: ranks).map { j in
            Array((start + j * microBatch)..<min(start + batchSize, start + (j + 1) * microBatch))
        }
    }
}
