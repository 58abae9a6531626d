// `train`'s memory preflight: the per-node memory plan of the run, printed before any weight is read,
// and a refusal with the estimate, the available memory and a hint when it cannot fit. Every rank computes
// the same plan; the available memory is the smallest over the job's nodes (one all-reduce), so every rank
// reaches the same verdict and a refusal never leaves a rank waiting in a collective.
import ArgumentParser
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraModel
import SecuraTrain

/// The preflight's flags.
struct MemoryCheckOptions: ParsableArguments {
    @Option(help: "Memory in GiB this job may use on each node, instead of what the node reports as available (MemAvailable, capped by the cgroup limit).")
    var memoryLimit: Double?

    @Flag(help: "Run even when the memory plan says the run does not fit (it is still printed).")
    var skipMemoryCheck = false

    func validate() throws {
        guard memoryLimit.map({ $0 > 0 && $0.isFinite }) ?? true else { throw ValidationError("--memory-limit must be a positive number of GiB") }
    }
}

extension TrainingRun {
    /// Prints the memory plan of this run and throws `MemoryPlanError` when it cannot fit.
    /// Collective: one all-reduce of the available memory.
    func checkMemory(_ opened: LoadedModel, settings: MethodSettings, say: RootPrinter) throws {
        let o = options
        let plan = memoryPlan(opened, settings: settings, ranksPerNode: comm.localSize, microBatch: o.microBatch,
                              maxLength: o.maxLength, recompute: o.recompute)

        // The tightest node decides, so every rank reaches the same verdict (MiB in a Float is exact).
        let limit = o.memoryCheck.memoryLimit.map { (bytes: Int($0 * 1_073_741_824), source: "--memory-limit") }
        let local = limit ?? NodeMemory.available()
        var mib = [local.map { Float($0.bytes / 1_048_576) } ?? Float.greatestFiniteMagnitude]
        try comm.allReduceMin(&mib)
        let known = mib[0] < Float.greatestFiniteMagnitude
        let available = known ? Int(mib[0]) * 1_048_576 : nil
        let source = (local?.source ?? "unknown") + (comm.size > comm.localSize ? ", smallest over the nodes" : "")
        for line in plan.table(availableBytes: available, availableSource: source) { say(line) }
        guard let available else {
            say("memory check: this node's available memory is unknown; not checked")
            return
        }
        switch plan.verdict(availableBytes: available) {
        case .fits:
            break
        case let .pages(short):
            say("memory check: the model's mapped pages do not all fit (" + MemoryPlan.format(short)
                + " short): weights will be re-read from disk during the run, which is slow")
        case .doesNotFit:
            let error = MemoryPlanError(plan: plan, availableBytes: available, availableSource: source)
            if o.memoryCheck.skipMemoryCheck {
                say("memory check: WARNING (--skip-memory-check): \(error.description)")
            } else {
                throw error
            }
        }
    }
}

/// The memory plan of training `opened` with `settings`, `ranksPerNode` ranks on a node, micro-batches of
/// `microBatch` × `maxLength` tokens (reads only the configuration, tensor list and file sizes).
func memoryPlan(_ opened: LoadedModel, settings: MethodSettings, ranksPerNode: Int, microBatch: Int, maxLength: Int,
                recompute: Bool) -> MemoryPlan {
    let c = opened.config
    func activations(_ recompute: Bool) -> Int {
        ActivationMemory.bytes(config: c, settings: settings, microBatch: microBatch, length: maxLength, recompute: recompute)
    }
    return MemoryPlan(MemoryPlanInputs(
        config: c, settings: settings, mappedFileBytes: MemoryFootprint.mappedBytes(opened),
        dequantisedElements: MemoryFootprint.dequantisedElements(opened), ranksPerNode: ranksPerNode,
        microBatch: microBatch, maxLength: maxLength, recompute: recompute,
        trainingActivationBytes: (activations(false), activations(true))))
}

/// What an opened model costs in memory before training adds anything.
enum MemoryFootprint {
    /// Bytes of the model files that get memory-mapped: a folder's safetensors files, or the GGUF file.
    static func mappedBytes(_ opened: LoadedModel) -> Int {
        let fm = FileManager.default
        func size(_ path: String) -> Int { ((try? fm.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.intValue ?? 0 }
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: opened.path, isDirectory: &isDirectory), isDirectory.boolValue else { return size(opened.path) }
        let names = (try? fm.contentsOfDirectory(atPath: opened.path)) ?? []
        return names.filter { $0.hasSuffix(".safetensors") }.reduce(0) { $0 + size(opened.path + "/" + $1) }
    }

    /// Elements of a GGUF model's quantised tensors (dequantised to fp32 at load); 0 for safetensors.
    static func dequantisedElements(_ opened: LoadedModel) -> Int {
        guard opened.source is GGUFModel else { return 0 }
        let plain: Set<String> = ["F32", "F16", "BF16"]
        return opened.tensors.filter { !plain.contains($0.dtype.uppercased()) }.reduce(0) { $0 + $1.shape.reduce(1, *) }
    }
}

/// `inspect --memory-plan`: the plan of a training run without running it.
struct MemoryPlanOptions: ParsableArguments {
    @Flag(help: "Print the per-node memory plan of training this model with --method (default secura-m1).")
    var memoryPlan = false

    @Option(help: "With --memory-plan: ranks on the node.")
    var ranksPerNode = 1

    @Option(help: "With --memory-plan: sequences per forward pass.")
    var microBatch = 1

    @Option(help: "With --memory-plan: longest sequence in tokens.")
    var maxLength = 512

    @Flag(help: "With --memory-plan: with activation recomputation.")
    var recompute = false
}
