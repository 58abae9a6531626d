// Options of a training run (the library side of `secura-dist train`'s flags).
import Foundation

/// What to do when the reduced gradients contain NaN or Inf.
public enum NaNPolicy: String, CaseIterable, Sendable, Codable {
    /// All ranks skip the step together (counted in the metrics).
    case skip
    /// Stop the job with an error.
    case abort
}

public struct TrainingOptions: Sendable, Equatable, Codable {
    /// Optimizer steps.
    public var steps = 100
    /// Global batch, in sequences, per optimizer step (over all ranks).
    public var batchSize = 8
    /// Sequences per forward pass on one rank (gradient accumulation covers the rest).
    public var microBatch = 1
    public var schedule = LRSchedule(kind: .constant, base: 1e-4, warmup: 0, total: 100)
    public var adamw = AdamWSettings()
    /// Clip gradients to this global norm (nil: no clipping).
    public var clipNorm: Double? = 1.0
    public var seed: UInt64 = 42
    public var padToken: Int32 = 0
    /// Validation loss every this many steps (0: only at the start and the end).
    public var evalEvery = 0
    /// Checkpoint every this many steps (0: only at the end).
    public var saveEvery = 0
    public var onNaN: NaNPolicy = .skip
    /// Activation recomputation (`--recompute`): keep only each layer's input in the forward pass and
    /// re-run the layer in the backward pass. Results are bit-identical either way; a resume may change it.
    public var recompute: Bool {
        get { recomputeActivations ?? false }
        set { recomputeActivations = newValue ? true : nil }
    }
    // Optional so that checkpoints written before the flag existed still decode (and omit it when off).
    private var recomputeActivations: Bool?

    public init() {}
}
