// The memory flags: train's preflight (--memory-limit, --skip-memory-check) and inspect's --memory-plan.
import ArgumentParser
import SecuraModel
import SecuraRun

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

    @Option(help: "With --memory-plan and no MODEL: plan for a catalogue shape (\(ModelShape.catalogue.map(\.name).joined(separator: ", "))) stored in bf16, without its files.")
    var shape: String?
}
