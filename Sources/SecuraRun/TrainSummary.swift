// `OUTPUT/summary.json`: what a training run did, machine-readable, so benchmark and experiment scripts read
// numbers instead of scraping the progress lines meant for people. Written by rank 0 at the end of every
// `train`. JSON has no NaN or infinity: a non-finite number is written as the string "NaN", "Infinity" or
// "-Infinity" (as in metrics.jsonl), which Python's json module and jq read without error.
import Foundation
import SecuraDistributed

/// The end-of-run summary (keys in snake_case, as the metrics file; `configuration` is the run's values).
public struct TrainSummary: Codable, Sendable {
    public var model: String
    public var method: String
    public var ranks: Int
    public var nodes: Int
    /// Each rank's host name, by rank.
    public var hosts: [String]
    public var threads_per_rank: Int
    public var batch_size: Int
    public var micro_batch: Int
    public var max_length: Int
    public var recompute: Bool
    /// Trainable values of the method over all layers (as the run's method line prints; an IMSM gate's are
    /// counted in `allreduce_values`).
    public var trainable_parameters: Int
    /// Values in the gradient all-reduce of a step (trainable values, plus the loss sum and token count).
    public var allreduce_values: Int
    /// Steps run by this invocation (a resumed run counts only its own).
    public var steps_run: Int
    public var final_step: Int
    /// The step this invocation started from (0, or the resumed checkpoint's step).
    public var start_step: Int
    public var final_loss: Double?
    /// The validation loss at the last step (nil when there is no validation split).
    public var final_validation_loss: Double?
    /// Steps skipped for NaN/Inf gradients in this invocation.
    public var skipped_steps: Int
    /// Tokens processed by all ranks (padding excluded) in this invocation's steps.
    public var tokens: Int
    public var seconds_in_steps: Double
    public var seconds_per_step: Double
    /// Tokens per second of step time.
    public var tokens_per_second: Double
    /// Shares of step time in the gradient all-reduce and in merges (0...1).
    public var allreduce_share: Double
    public var merge_share: Double
    /// The same two as seconds per step.
    public var allreduce_seconds_per_step: Double
    public var merge_seconds_per_step: Double
    /// Adapter initialisation (CABR's SVD or slice) in seconds, and how it ran.
    public var init_seconds: Double
    public var init_method: String
    /// Writing the final checkpoint: seconds and bytes on disk.
    public var checkpoint_seconds: Double?
    public var checkpoint_bytes: Int?
    /// Per rank, MiB: peak resident set (shared pages counted in full on every rank), proportional set at the
    /// end, and the largest proportional set sampled during the run.
    public var peak_rss_mib: [Double]
    public var pss_end_mib: [Double]
    public var pss_peak_mib: [Double]
    /// Σ over ranks of each rank's sampled PSS peak: an upper bound of the node's peak PSS (one node).
    public var pss_peak_sum_mib: Double
    /// Per host: Σ over its ranks of their sampled PSS peaks (an upper bound of the host's peak PSS).
    public var pss_peak_by_host_mib: [String: Double]
    public var wall_seconds: Double
    /// Where the final state is.
    public var adapter_folder: String
    /// Every value the run was configured with.
    public var configuration: TrainConfiguration
    /// ‖W_after − W_before‖_F / ‖W_before‖_F of the adapted weights (nil for IMSM runs, and in summaries
    /// written before it was measured).
    public var weight_movement: WeightMovement? = nil

    /// Writes the summary as pretty, key-sorted JSON (atomically).
    public func write(to url: URL) throws {
        try JSONText.encoder(pretty: true).encode(self).write(to: url, options: .atomic)
    }

    /// Reads a summary written by `write`.
    public static func read(_ url: URL) throws -> TrainSummary {
        try JSONText.decoder().decode(TrainSummary.self, from: Data(contentsOf: url))
    }
}

/// JSON coders that represent non-finite numbers (JSON has none) as the strings "NaN", "Infinity" and
/// "-Infinity", so a diverging run's numbers are written and read back instead of failing the run.
public enum JSONText {
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return d
    }

    /// One line of JSON for an Encodable value (keys sorted).
    public static func line<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder().encode(value), as: UTF8.self)
    }

    /// `value` as a JSON number, or the string for a non-finite one (for JSONSerialization dictionaries).
    public static func number(_ value: Double) -> Any {
        value.isFinite ? value : (value.isNaN ? "NaN" : (value > 0 ? "Infinity" : "-Infinity"))
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
