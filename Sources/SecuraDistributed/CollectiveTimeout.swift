// The watchdog's deadline rule: how long a rank may wait inside one collective before it declares the
// job stalled. Pure value type (no clocks, no MPI), so the rule is unit-tested on its own; the MPI
// communicator feeds it step timings and asks it for the current deadline.
//
// The rule (`seconds`):
//   - `--collective-timeout T` given: T, for every collective of the run.
//   - otherwise, before this process has completed a step (loading, node-shared dequantisation, the
//     SVD init, the step-0 validation, the first step itself): `startAllowance`, 600 s;
//   - afterwards: max(`floor`, `stepMultiple` × the slowest step so far) = max(60 s, 10 × slowest);
//   - and, without a fixed T, never less than `computeMultiple` (2) × the time this rank computed since
//     its previous collective (`seconds(computedFor:)`): after a long phase without collectives (an
//     evaluation's generation, an experiment's next run) the other ranks may be that much behind.
// "Slowest step" is the larger of a step's own duration and the interval between the ends of two
// consecutive steps, so checkpoint writing, validation and logging between steps count too.
// What a collective's deadline bounds is the *wait* inside it (from this rank's entry to completion):
// that is the time the other ranks take to catch up, which is at most about one step for ranks that
// are merely slower. A rank that is 2× slower is therefore never killed (its peers wait about one step);
// a stopped rank is detected after T, plus the census grace (`censusGrace`) spent naming it.

import Foundation

/// The deadline policy for collectives (see the file header for the rule).
public struct CollectiveTimeout: Sendable, Equatable {
    /// A fixed deadline in seconds (`--collective-timeout`); nil derives it from measured steps.
    public var fixed: Double?
    /// Lower bound of the derived deadline.
    public var floor: Double
    /// The derived deadline is this many times the slowest step.
    public var stepMultiple: Double
    /// The deadline before the first step of this process has completed.
    public var startAllowance: Double
    /// Without a fixed deadline, a collective waits at least this many times the time its rank
    /// computed since its previous collective.
    public var computeMultiple: Double = 2
    /// Slowest step measured so far (seconds), nil before the first.
    public private(set) var slowestStep: Double?
    /// Number of the last completed optimizer step (as the trainer counts, so resumed runs continue).
    public private(set) var lastStep: Int?
    /// When the last step ended (the caller's clock, seconds).
    private var lastStepEnd: Double?

    /// - Parameter fixed: `--collective-timeout`; must be positive when given.
    public init(fixed: Double? = nil, floor: Double = 60, stepMultiple: Double = 10, startAllowance: Double = 600) {
        precondition(fixed.map { $0 > 0 && $0.isFinite } ?? true, "a collective timeout must be positive")
        self.fixed = fixed
        self.floor = floor
        self.stepMultiple = stepMultiple
        self.startAllowance = startAllowance
    }

    /// Records that step `step` ended at `now` after `seconds` of its own work.
    public mutating func stepCompleted(_ step: Int, seconds: Double, at now: Double) {
        var longest = max(0, seconds.isFinite ? seconds : 0)
        if let lastStepEnd { longest = max(longest, now - lastStepEnd) }
        slowestStep = max(slowestStep ?? 0, longest)
        lastStep = step
        lastStepEnd = now
    }

    /// The current deadline of one collective, in seconds.
    public var seconds: Double {
        if let fixed { return fixed }
        guard let slowestStep else { return max(floor, startAllowance) }
        return max(floor, stepMultiple * slowestStep)
    }

    /// The deadline of a collective entered after `gap` seconds without collectives on this rank.
    public func seconds(computedFor gap: Double) -> Double {
        guard fixed == nil, gap.isFinite, gap > 0 else { return seconds }
        return max(seconds, computeMultiple * gap)
    }

    /// How long a rank whose deadline expired waits for the other ranks to answer its census (which
    /// ranks reached the collective) before it aborts: a quarter of the deadline, 1 to 10 s. Live ranks
    /// answer within milliseconds (they answer while polling their own collective).
    public var censusGrace: Double { min(10, max(1, seconds / 4)) }

    /// "step S" for messages: the step in progress (the last completed one + 1), or the start-up phase.
    public var phase: String {
        lastStep.map { "step \($0 + 1)" } ?? "start-up (before the first step)"
    }

    /// The watchdog's one-line verdict, e.g. "step 12: MPI_Allreduce(SUM, DOUBLE) did not complete
    /// within 20 s; ranks that did not arrive: 1".
    /// - Parameter missing: ranks known not to have arrived, with a reason each; nil when they could not
    ///   be determined (then `why` says why).
    /// - Parameter limit: the deadline that expired (default: `seconds`).
    public func verdict(operation: String, limit: Double? = nil, waited: Double,
                        missing: [(rank: Int, reason: String)]?, why: String = "") -> String {
        let head = "\(phase): \(operation) did not complete within \(CollectiveTimeout.format(limit ?? seconds)) s "
            + "(waited \(CollectiveTimeout.format(waited)) s); ranks that did not arrive: "
        guard let missing else { return head + "could not be determined" + (why.isEmpty ? "" : " (\(why))") }
        guard !missing.isEmpty else {
            return head + "none found (every rank answered from this collective" + (why.isEmpty ? ")" : "; \(why))")
        }
        return head + missing.map { "\($0.rank) (\($0.reason))" }.joined(separator: ", ")
    }

    /// Seconds for messages: "20" or "20.5".
    public static func format(_ value: Double) -> String {
        value == value.rounded() && value < 1e9 ? String(Int(value)) : String(format: "%.1f", value)
    }
}
