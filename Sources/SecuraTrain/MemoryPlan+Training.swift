// The parts of a training run's memory plan, from the model's configuration, the method's site plans
// and the batch shape: the same sizes the allocations use (masters h·d fp32 per site, four fp32 and one
// Double per trainable value, C [h, r] and R [r, d] per CUR/CABR site). Activations come from the
// decoder's own estimate, passed in, so this file never duplicates the decoder's buffer list.
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
    /// Bytes of one micro-batch's training activations and backward scratch on a rank, stored or
    /// recomputed (the decoder's estimate for `microBatch` × `maxLength`).
    public var trainingActivationBytes: (stored: Int, recomputed: Int)
    /// Bytes of a forward-only pass (one layer's buffers, no backward): I-LoRA's long-term forward (with
    /// logits) and IMSM's frozen branch (without).
    public var forwardOnlyBytes: (withLogits: Int, withoutLogits: Int)
    /// Fixed cost of a process: the Swift runtime, MPI and OpenBLAS buffers, code.
    public var runtimeBytesPerRank = 128 << 20

    public init(config: DecoderConfig, settings: MethodSettings, mappedFileBytes: Int, dequantisedElements: Int,
                ranksPerNode: Int, microBatch: Int, maxLength: Int, recompute: Bool,
                trainingActivationBytes: (stored: Int, recomputed: Int),
                forwardOnlyBytes: (withLogits: Int, withoutLogits: Int)) {
        self.config = config
        self.settings = settings
        self.mappedFileBytes = mappedFileBytes
        self.dequantisedElements = dequantisedElements
        self.ranksPerNode = ranksPerNode
        self.microBatch = microBatch
        self.maxLength = maxLength
        self.recompute = recompute
        self.trainingActivationBytes = trainingActivationBytes
        self.forwardOnlyBytes = forwardOnlyBytes
    }
}

extension MemoryPlan {
    /// The plan of a training run.
    public init(_ x: MemoryPlanInputs) {
        var layout = ParameterLayout()
        let plans = MethodPlanner.plan(x.config, x.settings, layout: &layout)
        let s = x.settings, method = s.method
        let trainable = layout.count
        let rows = x.microBatch * x.maxLength
        var parts: [Part] = [
            Part(name: "model weights", bytes: x.mappedFileBytes, scope: .node, fileBacked: true),
            Part(name: "dequantised GGUF tensors (fp32, node-shared)", bytes: x.dequantisedElements * 4, scope: .node),
        ]
        if method == .securaM1 {
            let masters = plans.reduce(0) { $0 + $1.outFeatures * $1.inFeatures } * 4
            parts.append(Part(name: "SECURA-M1 fp32 merge masters (node-shared)", bytes: masters, scope: .node,
                              hint: "fewer --targets"))
        }
        let stored = x.trainingActivationBytes.stored, recomputed = x.trainingActivationBytes.recomputed
        let activationName = "activations, micro-batch \(x.microBatch) × \(x.maxLength) tokens"
            + (x.recompute ? " (recomputed)" : " (stored; \(Self.format(recomputed)) with --recompute)")
        parts.append(Part(name: activationName, bytes: x.recompute ? recomputed : stored, scope: .rank,
                          hint: x.recompute || stored <= recomputed ? "--micro-batch 1 or a smaller --max-length" : "--recompute"))
        // Values, gradients, AdamW m and v (fp32) and the Double gradient accumulator.
        parts.append(Part(name: "trainable values, gradients, AdamW moments (\(trainable.formatted()) values)",
                          bytes: trainable * (4 * 4 + 8), scope: .rank,
                          hint: method == .full ? "a parameter-efficient --method instead of full" : nil))
        var constants = 0, scratch = 0
        for p in plans {
            let h = p.outFeatures, d = p.inFeatures, r = p.rank, m = p.innerRank
            switch method {
            case .curLoRA:
                constants += (h * r + r * d) * 4
                scratch += rows * 5 * r * 4
            case .cabrLoRA, .securaM1, .securaM2:
                let long: Int = method == .securaM2 ? 2 * r * m : 0
                constants += (h * r + r * d + long) * 4
                scratch += rows * (5 * r + 3 * m) * 4
            case .lora, .iLoRA, .dora:
                // Dropout keeps the dropped input [N, D]; the low-rank products are [N, r].
                let dropped: Int = s.dropout > 0 ? d : 0
                scratch += rows * (dropped + 3 * r) * 4
                if method == .dora { scratch += (rows * 3 * h + 2 * h) * 4 }
            case .full:
                break
            }
        }
        if constants > 0 {
            parts.append(Part(name: "adapter constants (C, R\(method == .securaM2 ? ", long-term pair" : ""))",
                              bytes: constants, scope: .rank, hint: "a smaller --cur-rank"))
        }
        if scratch > 0 { parts.append(Part(name: "adapter scratch", bytes: scratch, scope: .rank)) }
        if method == .iLoRA {
            parts.append(Part(name: "I-LoRA EMA copy and its forward pass", bytes: trainable * 4 + x.forwardOnlyBytes.withLogits,
                              scope: .rank))
        }
        if s.imsm != nil {
            parts.append(Part(name: "IMSM frozen-branch forward pass", bytes: x.forwardOnlyBytes.withoutLogits, scope: .rank))
        }
        parts.append(Part(name: "runtime (Swift, MPI, OpenBLAS buffers)", bytes: x.runtimeBytesPerRank, scope: .rank))
        self.init(parts: parts, ranksPerNode: x.ranksPerNode)
    }
}
