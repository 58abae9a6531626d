// `OUTPUT/summary.json`: what a training run did, machine-readable, so benchmark and experiment scripts read
// numbers instead of scraping the progress lines meant for people. Written by rank 0 at the end of a run.
import Foundation
import SecuraDistributed

/// The end-of-run summary (keys in snake_case, as the metrics file).
struct RunSummary: Codable {
    var model: String
    var method: String
    var ranks: Int
    var nodes: Int
    /// Each rank's host name, by rank.
    var hosts: [String]
    var threads_per_rank: Int
    var batch_size: Int
    var micro_batch: Int
    var max_length: Int
    var recompute: Bool
    /// Values in the gradient all-reduce of a step (trainable values, plus the loss sum and token count).
    var allreduce_values: Int
    /// Steps run by this invocation (a resumed run counts only its own).
    var steps_run: Int
    var final_step: Int
    var final_loss: Double?
    var seconds_in_steps: Double
    var seconds_per_step: Double
    /// Tokens processed by all ranks (padding excluded) per second of step time.
    var tokens_per_second: Double
    /// Shares of step time in the gradient all-reduce and in merges (0...1).
    var allreduce_share: Double
    var merge_share: Double
    /// The same two as seconds per step.
    var allreduce_seconds_per_step: Double
    var merge_seconds_per_step: Double
    /// Adapter initialisation (CABR's SVD or slice) in seconds, and how it ran.
    var init_seconds: Double
    var init_method: String
    /// Writing the final checkpoint: seconds and bytes on disk.
    var checkpoint_seconds: Double?
    var checkpoint_bytes: Int?
    /// Per rank, MiB: peak resident set (shared pages counted in full on every rank), proportional set at the
    /// end, and the largest proportional set sampled during the run.
    var peak_rss_mib: [Double]
    var pss_end_mib: [Double]
    var pss_peak_mib: [Double]
    /// Σ over ranks of each rank's sampled PSS peak: an upper bound of the node's peak PSS (one node).
    var pss_peak_sum_mib: Double
    /// Per host: Σ over its ranks of their sampled PSS peaks (an upper bound of the host's peak PSS).
    var pss_peak_by_host_mib: [String: Double]
    var wall_seconds: Double

    func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(self).write(to: url, options: .atomic)
    }
}

/// The largest proportional set size seen, sampled at most every `interval` seconds (reading
/// /proc/self/smaps_rollup walks every mapping: cheap for a 16 GB model, but not free at every fast step).
struct PeakPSS {
    var interval: Double = 5
    private(set) var peakBytes = 0
    private var last: Date? = nil

    mutating func sample(force: Bool = false) {
        if !force, let last, Date().timeIntervalSince(last) < interval { return }
        last = Date()
        if let now = ProcessMemory.proportionalSetBytes() { peakBytes = max(peakBytes, now) }
    }
}
