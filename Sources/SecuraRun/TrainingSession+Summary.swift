// The end of a training run: memory per rank gathered from every rank, and the summary value
// that rank 0 writes to OUTPUT/summary.json.
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraModel
import SecuraTensor
import SecuraTrain

/// What `summarize` needs from the run.
struct SummaryInputs {
    let settings: MethodSettings
    /// Each rank's host name (gathered once, for the rank map).
    let hosts: [String]
    let adapters: AdapterSet
    /// The weights the run started from (for the weight movement).
    let base: WeightSource
    let trainer: Trainer
    let loop: LoopTotals
    let lastValidation: Double?
    let initSeconds: Double
    let initMethod: String
    let checkpointSeconds: Double
    let finalCheckpoint: URL
    let adapterFolder: URL
    let started: Date
}

extension TrainingSession {
    /// Gathers memory figures and host names from every rank (collective) and builds the summary.
    func summarize(_ i: SummaryInputs) throws -> TrainSummary {
        let c = configuration, loop = i.loop
        // VmHWM counts shared pages in full on every rank; PSS splits them, so its sum is the real total.
        let peaks = try comm.allGather(value: Double(ProcessMemory.peakResidentBytes() ?? 0) / 1_048_576)
        let pss = try comm.allGather(value: Double(ProcessMemory.proportionalSetBytes() ?? 0) / 1_048_576)
        let pssPeaks = try comm.allGather(value: Double(loop.pss.peakBytes) / 1_048_576)
        let hosts = i.hosts
        let steps = Double(max(1, loop.steps))
        return TrainSummary(
            model: c.model, method: i.settings.method.rawValue, ranks: comm.size, nodes: Set(hosts).count, hosts: hosts,
            threads_per_rank: BLAS.threads, batch_size: c.optimizer.batchSize, micro_batch: c.optimizer.microBatch,
            max_length: c.prompt.maxLength, recompute: c.optimizer.recompute,
            trainable_parameters: i.adapters.trainablePerLayer.reduce(0, +), allreduce_values: i.adapters.parameters.count + 2,
            steps_run: loop.steps, final_step: i.trainer.step, start_step: loop.startStep, final_loss: loop.lastLoss,
            final_validation_loss: i.lastValidation, skipped_steps: i.trainer.skippedSteps, tokens: loop.tokens,
            seconds_in_steps: loop.seconds, seconds_per_step: loop.seconds / steps, tokens_per_second: loop.tokensPerSecond,
            allreduce_share: loop.seconds > 0 ? loop.allReduce / loop.seconds : 0,
            merge_share: loop.seconds > 0 ? loop.merge / loop.seconds : 0,
            allreduce_seconds_per_step: loop.allReduce / steps, merge_seconds_per_step: loop.merge / steps,
            init_seconds: i.initSeconds, init_method: i.initMethod,
            checkpoint_seconds: i.checkpointSeconds, checkpoint_bytes: Self.folderBytes(i.finalCheckpoint),
            peak_rss_mib: peaks, pss_end_mib: pss, pss_peak_mib: pssPeaks, pss_peak_sum_mib: pssPeaks.reduce(0, +),
            pss_peak_by_host_mib: Dictionary(zip(hosts, pssPeaks), uniquingKeysWith: +),
            wall_seconds: Date().timeIntervalSince(i.started), adapter_folder: i.adapterFolder.path, configuration: c,
            weight_movement: try WeightMovement.measure(i.adapters, base: i.base))
    }

    /// Bytes of the regular files in `folder` (nil when it does not exist).
    static func folderBytes(_ folder: URL) -> Int? {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return nil }
        return names.reduce(0) { total, name in
            let attributes = try? FileManager.default.attributesOfItem(atPath: folder.appendingPathComponent(name).path)
            return total + ((attributes?[.size] as? NSNumber)?.intValue ?? 0)
        }
    }
}
