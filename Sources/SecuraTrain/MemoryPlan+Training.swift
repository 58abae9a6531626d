// The parts of a training run's memory plan, from the model's configuration, the method's site plans
// and the batch shape: the same sizes the allocations use (masters h·d fp32 per site, four fp32 and one
// Double per trainable value, C [h, r] and R [r, d] per CUR/CABR site). Activations and scratch come
// from ActivationMemory, passed in, so this file never duplicates the decoder's or adapters' buffer lists.
import Foundation
import SecuraAdapters
import SecuraModel
import SecuraTensor

/// What a training run's memory plan is computed from (all known before any weight is read).
public struct MemoryPlanInputs: Sendable {
    public var config: DecoderConfig
    public var settings: MethodSettings
    /// Bytes of the model files that are memory-mapped (safetensors shards or the GGUF file).
    public var mappedFileBytes: Int
    /// Elements of quantised GGUF tensors, dequantised to fp32 once per node (0 for safetensors).
    public var dequantisedElements: Int
    public var ranksPerNode: Int
    /// Sequences per forward pass and the longest sequence: a micro-batch has at most B·T rows.
    public var microBatch: Int
    public var maxLength: Int
    public var recompute: Bool
    /// Bytes of one micro-batch's training activations on a rank, stored or recomputed: the decoder's
    /// activations and backward scratch, the adapters' per-site scratch, and the forward-only passes of
    /// I-LoRA and IMSM (`ActivationMemory.bytes` for `microBatch` × `maxLength`).
    public var trainingActivationBytes: (stored: Int, recomputed: Int)
    /// Fixed cost of a process: the Swift runtime, MPI and OpenBLAS buffers, code.
    public var runtimeBytesPerRank = 128 << 20
    /// The run's continual-learning state beyond a plain run (none by default).
    public var sequence = Sequence()

    /// What a run of a task sequence holds beside a plain run.
    public struct Sequence: Sendable, Equatable {
        /// EWC: nil without; else whether the run starts with an earlier task's penalty (Fisher and anchor).
        public var ewcHasPenalty: Bool?
        /// Replay buffer capacity in examples (0: no replay).
        public var replaySize = 0
        /// The run belongs to a task sequence: after it, the sequence merges its adapter into an fp32
        /// overlay of the model (to fuse it, or without fusion to score it).
        public var fusesAfterRun = false
        /// The run trains on an overlay of fused weights (fusion at task end, from the second task on).
        public var trainsOnFusedWeights = false

        public init(ewcHasPenalty: Bool? = nil, replaySize: Int = 0, fusesAfterRun: Bool = false, trainsOnFusedWeights: Bool = false) {
            self.ewcHasPenalty = ewcHasPenalty
            self.replaySize = replaySize
            self.fusesAfterRun = fusesAfterRun
            self.trainsOnFusedWeights = trainsOnFusedWeights
        }
    }

    public init(config: DecoderConfig, settings: MethodSettings, mappedFileBytes: Int, dequantisedElements: Int,
                ranksPerNode: Int, microBatch: Int, maxLength: Int, recompute: Bool,
                trainingActivationBytes: (stored: Int, recomputed: Int)) {
        self.config = config
        self.settings = settings
        self.mappedFileBytes = mappedFileBytes
        self.dequantisedElements = dequantisedElements
        self.ranksPerNode = ranksPerNode
        self.microBatch = microBatch
        self.maxLength = maxLength
        self.recompute = recompute
        self.trainingActivationBytes = trainingActivationBytes
    }
}

extension MemoryPlan {
    /// The plan of a training run.
    public init(_ x: MemoryPlanInputs) {
        var layout = ParameterLayout()
        let plans = MethodPlanner.plan(x.config, x.settings, layout: &layout)
        let s = x.settings, method = s.method.definition
        let trainable = layout.count
        var parts: [Part] = [
            Part(name: "model weights", bytes: x.mappedFileBytes, scope: .node, fileBacked: true),
            Part(name: "dequantised GGUF tensors (fp32, node-shared)", bytes: x.dequantisedElements * 4, scope: .node),
        ]
        if method.mergesIntoMasters {
            let masters = plans.reduce(0) { $0 + $1.outFeatures * $1.inFeatures } * 4
            parts.append(Part(name: "\(method.displayName) fp32 merge masters (node-shared)", bytes: masters, scope: .node,
                              hint: "fewer --targets"))
            // The merge keeps its ΔW panels between its two passes when a rank's shard fits the budget.
            let kept = SecuraM1Method.keptDeltaFloats(shardFloats: masters / 4 / max(1, x.ranksPerNode), smagnorm: s.smagnorm)
            if kept > 0 {
                parts.append(Part(name: "\(method.displayName) merge: ΔW panels kept between its passes", bytes: kept * 4,
                                  scope: .rank, hint: "fewer --targets"))
            }
        }
        let stored = x.trainingActivationBytes.stored, recomputed = x.trainingActivationBytes.recomputed
        let activationName = "activations and scratch, micro-batch \(x.microBatch) × \(x.maxLength) tokens"
            + (x.recompute ? " (recomputed)" : " (stored; \(Self.format(recomputed)) with --recompute)")
        parts.append(Part(name: activationName, bytes: x.recompute ? recomputed : stored, scope: .rank,
                          hint: x.recompute || stored <= recomputed ? "--micro-batch 1 or a smaller --max-length" : "--recompute",
                          isActivations: true))
        if method.usesCABRInit && s.cabrInit == .svd, let largest = plans.max(by: { $0.outFeatures * $0.inFeatures < $1.outFeatures * $1.inFeatures }) {
            // LAPACK dgesdd on one whole matrix per rank (the dealt solver), in Double: the matrix, U and Vᵀ
            // (k = min(h, d) columns each) and about 4k² + 7k of work space.
            let h = largest.outFeatures, d = largest.inFeatures, k = min(h, d)
            parts.append(Part(name: "SVD workspace (dgesdd on a \(h)×\(d) matrix)", bytes: 8 * (h * d + h * k + k * d + 4 * k * k + 7 * k),
                              scope: .rank, hint: "--cabr-init slice (equal A without an SVD) or --cabr-init-cache", duringInitialisation: true))
        }
        // Values, gradients, AdamW m and v (fp32) and the Double gradient accumulator.
        parts.append(Part(name: "trainable values, gradients, AdamW moments (\(trainable.formatted()) values)",
                          bytes: trainable * (4 * 4 + 8), scope: .rank,
                          hint: method.trainsBaseWeights ? "a parameter-efficient --method instead of full" : nil))
        let constants = plans.reduce(0) { $0 + method.constantFloats($1) } * 4
        if constants > 0 {
            parts.append(Part(name: method.constantsName, bytes: constants, scope: .rank, hint: "a smaller --cur-rank"))
        }
        if method.trainableCopies > 0 {
            parts.append(Part(name: "\(method.displayName) EMA copy", bytes: method.trainableCopies * trainable * 4, scope: .rank))
        }
        parts += Self.sequenceParts(x, plans: plans, trainable: trainable)
        parts.append(Part(name: "runtime (Swift, MPI, OpenBLAS buffers)", bytes: x.runtimeBytesPerRank, scope: .rank))
        self.init(parts: parts, ranksPerNode: x.ranksPerNode)
    }

    /// EWC's state, the replay buffer and the fused weights of a task sequence's run.
    static func sequenceParts(_ x: MemoryPlanInputs, plans: [SitePlan], trainable: Int) -> [Part] {
        let q = x.sequence
        var parts: [Part] = []
        if let hasPenalty = q.ewcHasPenalty {
            parts.append(Part(name: "EWC: " + (hasPenalty ? "earlier tasks' Fisher and anchor, " : "") + "this task's Fisher estimate (Double sum) and anchor",
                              bytes: trainable * EWCPenalty.peakBytesPerValue(hasPenalty: hasPenalty), scope: .rank,
                              hint: "no EWC, or EWC on fewer trainable values (fewer --targets; the ewc-samples setting changes the time, not the memory)"))
        }
        if q.replaySize > 0 {
            parts.append(Part(name: "replay buffer (\(q.replaySize) examples of up to \(x.maxLength) tokens)",
                              bytes: ReplayBuffer.peakBytes(capacity: q.replaySize, maxLength: x.maxLength), scope: .rank,
                              hint: "a smaller replay-size setting"))
        }
        // ModelContext.fused: an fp32 copy of every adapted matrix, per rank (not node-shared).
        let overlay = plans.reduce(0) { $0 + $1.outFeatures * $1.inFeatures } * MemoryLayout<Float>.stride
        if q.trainsOnFusedWeights {
            parts.append(Part(name: "fused weights of the earlier tasks (fp32 overlay of every adapted matrix)", bytes: overlay, scope: .rank,
                              hint: "fewer --targets, or --no-fuse-at-task-end (one adapter carried on the original weights)"))
        }
        if q.fusesAfterRun, let largest = plans.map({ $0.outFeatures * $0.inFeatures }).max() {
            // After the run (its activations freed): the new overlay being built, the adapter folder loaded
            // again (values and gradients), and one matrix's merged [Float] with its FloatBuffer copy.
            let bytes = overlay + trainable * 2 * MemoryLayout<Float>.stride + 2 * largest * MemoryLayout<Float>.stride
            parts.append(Part(name: "merge at the task's end (fp32 overlay being built, the adapter reloaded, one merged matrix twice)",
                              bytes: bytes, scope: .rank, hint: "fewer --targets", duringTaskSwitch: true))
        }
        return parts
    }
}
