// A training run's memory preflight: the per-node memory plan of the run, printed before any weight is read,
// and a refusal with the estimate, the available memory and a hint when it cannot fit. Every rank computes
// the same plan; the available memory is the smallest over the job's nodes (one all-reduce), so every rank
// reaches the same verdict and a refusal never leaves a rank waiting in a collective.
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraModel
import SecuraTrain

extension TrainingSession {
    /// Reports the memory plan of this run and throws `MemoryPlanError` when it cannot fit.
    /// Collective: one all-reduce of the available memory.
    func checkMemory(_ opened: LoadedModel, settings: MethodSettings) throws {
        let o = configuration.optimizer, m = configuration.memory
        let plan = memoryPlan(opened, settings: settings, ranksPerNode: comm.localSize, microBatch: o.microBatch,
                              maxLength: configuration.prompt.maxLength, recompute: o.recompute,
                              sequence: configuration.sequenceMemory)

        // The tightest node decides, so every rank reaches the same verdict (MiB in a Float is exact).
        let limit = m.limitGiB.map { (bytes: Int($0 * 1_073_741_824), source: RunSetting.memoryLimit.flag) }
        let local = limit ?? NodeMemory.available()
        var mib = [local.map { Float($0.bytes / 1_048_576) } ?? Float.greatestFiniteMagnitude]
        try comm.allReduceMin(&mib)
        let known = mib[0] < Float.greatestFiniteMagnitude
        let available = known ? Int(mib[0]) * 1_048_576 : nil
        let source = (local?.source ?? "unknown") + (comm.size > comm.localSize ? ", smallest over the nodes" : "")
        for line in plan.table(availableBytes: available, availableSource: source) { note(line) }
        guard let available else {
            note("memory check: this node's available memory is unknown; not checked")
            return
        }
        switch plan.verdict(availableBytes: available) {
        case .fits:
            break
        case let .pages(short):
            note("memory check: the model's mapped pages do not all fit (" + MemoryPlan.format(short)
                + " short): weights will be re-read from disk during the run, which is slow")
        case .doesNotFit:
            let error = MemoryPlanError(plan: plan, availableBytes: available, availableSource: source)
            if m.skipCheck {
                note("memory check: WARNING (memory check skipped): \(error.description)")
            } else {
                throw error
            }
        }
    }
}

extension TrainConfiguration {
    /// What the run holds for a task sequence beside a plain run (EWC, replay, fused weights), for its memory plan.
    public var sequenceMemory: MemoryPlanInputs.Sequence {
        MemoryPlanInputs.Sequence(ewcHasPenalty: ewc.map { $0.previousState != nil }, replaySize: replay?.size ?? 0,
                                  fusesAfterRun: sequence != nil, trainsOnFusedWeights: sequence?.trainsOnFusedWeights ?? false)
    }
}

/// The memory plan of training `opened` with `settings`, `ranksPerNode` ranks on a node, micro-batches of
/// `microBatch` × `maxLength` tokens, and `sequence`'s extra state (reads only the configuration, tensor
/// list and file sizes).
public func memoryPlan(_ opened: LoadedModel, settings: MethodSettings, ranksPerNode: Int, microBatch: Int, maxLength: Int,
                recompute: Bool, sequence: MemoryPlanInputs.Sequence = .init()) -> MemoryPlan {
    memoryPlan(config: opened.config, mappedFileBytes: MemoryFootprint.mappedBytes(opened),
               dequantisedElements: MemoryFootprint.dequantisedElements(opened), settings: settings,
               ranksPerNode: ranksPerNode, microBatch: microBatch, maxLength: maxLength, recompute: recompute, sequence: sequence)
}

/// The memory plan of a model known by its configuration and the size of its files.
public func memoryPlan(config c: DecoderConfig, mappedFileBytes: Int, dequantisedElements: Int, settings: MethodSettings,
                ranksPerNode: Int, microBatch: Int, maxLength: Int, recompute: Bool,
                sequence: MemoryPlanInputs.Sequence = .init()) -> MemoryPlan {
    func activations(_ recompute: Bool) -> Int {
        ActivationMemory.bytes(config: c, settings: settings, microBatch: microBatch, length: maxLength, recompute: recompute)
    }
    var inputs = MemoryPlanInputs(
        config: c, settings: settings, mappedFileBytes: mappedFileBytes, dequantisedElements: dequantisedElements,
        ranksPerNode: ranksPerNode, microBatch: microBatch, maxLength: maxLength, recompute: recompute,
        trainingActivationBytes: (activations(false), activations(true)))
    inputs.sequence = sequence
    return MemoryPlan(inputs)
}

/// What an opened model costs in memory before training adds anything.
public enum MemoryFootprint {
    /// Bytes of the model files that get memory-mapped: a folder's safetensors files, or the GGUF file.
    public static func mappedBytes(_ opened: LoadedModel) -> Int {
        let fm = FileManager.default
        func size(_ path: String) -> Int { ((try? fm.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0 }
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: opened.path, isDirectory: &isDirectory), isDirectory.boolValue else { return size(opened.path) }
        let names = (try? fm.contentsOfDirectory(atPath: opened.path)) ?? []
        return names.filter { $0.hasSuffix(".safetensors") }.reduce(0) { $0 + size(opened.path + "/" + $1) }
    }

    /// Elements of a GGUF model's quantised tensors (dequantised to fp32 at load); 0 for safetensors.
    public static func dequantisedElements(_ opened: LoadedModel) -> Int {
        guard opened.source is GGUFModel else { return 0 }
        let plain: Set<String> = ["F32", "F16", "BF16"]
        return opened.tensors.filter { !plain.contains($0.dtype.uppercased()) }.reduce(0) { $0 + $1.shape.reduce(1, *) }
    }
}

