// The start-up line of `train` that predicts the activation memory per rank with and without --recompute.
import Foundation
import SecuraAdapters
import SecuraModel
import SecuraTrain

extension ActivationMemory {
    /// "activations per rank: 9.1 GiB stored, 0.6 GiB with --recompute (micro-batch 1 × 256 tokens)", for the
    /// longest micro-batch the run can form (`microBatch` sequences of `length` = --max-length tokens).
    static func line(config: DecoderConfig, settings: MethodSettings, microBatch: Int, length: Int, recompute: Bool) -> String {
        func gib(_ r: Bool) -> String {
            let bytes = bytes(config: config, settings: settings, microBatch: microBatch, length: length, recompute: r)
            return String(format: "%.2f GiB", Double(bytes) / 1_073_741_824)
        }
        return "activations per rank: \(gib(false)) stored, \(gib(true)) with --recompute"
            + " (micro-batch \(microBatch) × \(length) tokens; \(recompute ? "recomputing" : "stored"))"
    }
}
