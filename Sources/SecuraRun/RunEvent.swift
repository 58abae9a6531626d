// What a run reports while it works, delivered to the caller's callback on every rank (the caller decides
// who prints). The command line turns events into the lines people read; experiments and tests read the
// values. Nothing here is formatted for a person except `note`, which carries descriptive lines (the
// rank map, the memory plan, the data summary) that have no numbers a program needs.
import Foundation
import SecuraTrain

/// One event of a run.
public enum RunEvent {
    /// A descriptive line for people.
    case note(String)
    /// The validation loss before the first step of a fresh run.
    case initialValidation(loss: Double)
    /// An optimizer step finished.
    case step(StepEvent)
    /// A checkpoint folder was completed.
    case checkpoint(step: Int, folder: URL)
    /// The run ended; rank 0 also wrote it to OUTPUT/summary.json.
    case finished(TrainSummary)
}

/// An optimizer step with the run's progress.
public struct StepEvent: Sendable {
    public let report: StepReport
    /// The validation loss computed after this step, if the cadence asked for one.
    public let validationLoss: Double?
    /// The run's last step.
    public let totalSteps: Int
    /// Tokens (padding excluded, all ranks) per second of step time in this invocation.
    public let tokensPerSecond: Double
    /// Seconds left at this invocation's mean step time.
    public let etaSeconds: Double
    /// The cadence's logging step (or the last step): callers that print a line per step print these.
    public let isLogStep: Bool
}

/// Seconds as "42s", "3m05s" or "1h02m".
public func durationText(_ seconds: Double) -> String {
    let t = Int(seconds.isFinite ? seconds.rounded() : 0)
    if t >= 3600 { return "\(t / 3600)h" + String(format: "%02dm", t % 3600 / 60) }
    if t >= 60 { return "\(t / 60)m" + String(format: "%02ds", t % 60) }
    return "\(t)s"
}
