// Experience replay for task sequences: a buffer of examples from finished tasks, kept by reservoir sampling
// (every example seen so far has the same chance K/n of being in it), and a mix that fills a fixed share of
// every global batch from the buffer. Which example fills a batch position depends only on the global sample
// index (the position in the run's stream of samples), never on the rank, so batches are dealt to ranks as
// before and results do not depend on the rank count.
import Foundation
import SecuraModel
import SecuraTensor

/// The replay buffer: at most `capacity` examples and how many examples it has seen.
public struct ReplayBuffer: Codable, Sendable, Equatable {
    public let capacity: Int
    public private(set) var examples: [TrainingExample]
    /// Examples offered to the reservoir so far, over all tasks.
    public private(set) var seen: Int

    public init(capacity: Int) {
        precondition(capacity >= 1, "a replay buffer holds at least one example")
        self.capacity = capacity
        examples = []
        seen = 0
    }

    /// Offers `stream` to the reservoir (Vitter's algorithm R): the first `capacity` examples fill it; after
    /// that, the n-th example seen replaces a random slot with probability capacity / n. `seed` and the
    /// number seen so far fix every draw, so the same stream gives the same buffer.
    public mutating func offer(_ stream: [TrainingExample], seed: UInt64) {
        var rng = SeededRandom(seed: seed ^ (0xD6E8_FEB8_6659_FD93 &* UInt64(seen + 1)))
        for example in stream {
            seen += 1
            if examples.count < capacity {
                examples.append(example)
            } else {
                let j = Int(rng.next() % UInt64(seen))
                if j < capacity { examples[j] = example }
            }
        }
    }
}

/// A fixed share of every global batch drawn from a replay buffer.
public struct ReplayMix: Sendable {
    public let buffer: [TrainingExample]
    /// Replayed sequences per global batch (at least one task sequence remains).
    public let perBatch: Int
    public let seed: UInt64

    /// - Parameters:
    ///   - ratio: the share of a global batch of `batchSize` sequences to replay, rounded to whole sequences
    ///     and kept below the batch size.
    public init(buffer: [TrainingExample], ratio: Double, batchSize: Int, seed: UInt64) {
        self.buffer = buffer
        perBatch = buffer.isEmpty ? 0 : min(batchSize - 1, max(0, Int((ratio * Double(batchSize)).rounded())))
        self.seed = seed
    }

    /// The example of global sample `g` in batches of `batchSize`: the first `batchSize − perBatch` positions
    /// of each batch take the task's samples in order (`task(i)` is the task's i-th sample), the rest a buffer
    /// example drawn by a hash of (seed, g).
    public func example(at g: Int, batchSize: Int, task: (Int) -> TrainingExample) -> TrainingExample {
        let fresh = batchSize - perBatch
        let step = g / batchSize, j = g % batchSize
        guard j >= fresh else { return task(step * fresh + j) }
        var rng = SeededRandom(seed: seed ^ (0x9E37_79B9_7F4A_7C15 &* UInt64(g + 1)))
        return buffer[Int(rng.next() % UInt64(buffer.count))]
    }
}

extension ReplayBuffer {
    /// Bytes a rank holds for a buffer of `capacity` examples of at most `maxLength` tokens at its peak, the end
    /// of a task: the previous task's buffer that the batches mix in (`ReplayMix`) and the buffer read again
    /// to be offered this task's examples (a token id and a loss-mask entry per token, each).
    public static func peakBytes(capacity: Int, maxLength: Int) -> Int {
        2 * capacity * maxLength * (MemoryLayout<Int32>.stride + MemoryLayout<Bool>.stride)
    }
}
