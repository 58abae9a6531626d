// Independent jobs dealt to ranks (CostBalancedAssignment), each run by one rank alone, with every
// result broadcast from the rank that computed it, so every rank ends with bit-identical copies of all
// results. Used for CABR's initial A matrices: one LAPACK SVD per adapted weight, all ranks busy at once
// instead of all ranks on one matrix at a time.
//
// The run advances in rounds: in round i every rank runs its i-th job, then the round's results are
// broadcast (owners in rank order). Rounds give rank 0 an exact count of finished jobs for its progress
// line, keep at most one round of results in flight, and make a failure on any rank a collective error
// at the end of the round instead of a hang. Because every rank's jobs are sorted by decreasing cost, the
// jobs of one round have similar costs and little time is lost waiting at the round's end.
import Foundation
import SecuraErrors

/// How far a dealt run is, reported after every round.
public struct DealtProgress: Sendable {
    /// Jobs finished (on all ranks) and jobs in all.
    public let done: Int, total: Int
    /// Cost of the finished jobs and of all jobs (the units of the assignment's costs).
    public let doneCost: Double, totalCost: Double
    /// Seconds since the run started.
    public let seconds: Double

    /// Seconds still to go, extrapolated from the finished share of the cost (nil before any cost is done).
    public var remainingSeconds: Double? {
        guard doneCost > 0 else { return nil }
        return seconds * max(0, totalCost - doneCost) / doneCost
    }
}

/// A job of a dealt run failed; every rank throws the same error, with the failing rank's category.
public enum DealtRunError: CategorizedError, CustomStringConvertible {
    case jobFailed(job: Int, failure: RankFailure)

    public var category: ErrorCategory {
        switch self {
        case let .jobFailed(_, failure): return failure.category
        }
    }

    public var description: String {
        switch self {
        case let .jobFailed(job, failure): return "job \(job) failed on rank \(failure.rank): \(failure.message)"
        }
    }
}

/// What a rank reports when its job of the round failed.
private struct DealtJobFailure: Codable {
    var job: Int
    var failure: RankFailure
}

extension Communicator {
    /// Runs `costs.count` independent jobs, each on the rank `assignment` gives it, and returns every
    /// job's result on every rank, bit-identical (the owner's bytes).
    ///
    /// Collective: every rank passes the same `costs`, `resultCounts` and assignment (computed from the
    /// costs, it needs no communication).
    /// - Parameters:
    ///   - costs: relative cost per job (for the assignment and the progress ETA).
    ///   - resultCounts: the number of floats job `i` returns.
    ///   - compute: runs job `i` on its owner only; must return `resultCounts[i]` floats.
    ///   - progress: called on every rank after every round.
    /// - Throws: `DealtRunError.jobFailed` naming the first failing job of a round (on every rank), or
    ///   `CommunicatorError` from the transport.
    public func runDealt(costs: [Double], resultCounts: [Int], compute: (Int) throws -> [Float],
                         progress: (DealtProgress) -> Void = { _ in }) throws -> [[Float]] {
        precondition(costs.count == resultCounts.count, "one result count per job")
        let assignment = CostBalancedAssignment(costs: costs, ranks: size)
        let started = DispatchTime.now().uptimeNanoseconds
        let totalCost = costs.reduce(0, +)
        var results = [[Float]](repeating: [], count: costs.count)
        var done = 0, doneCost = 0.0
        for round in 0..<assignment.rounds {
            var problem: DealtJobFailure?
            if round < assignment.jobs[rank].count {
                let job = assignment.jobs[rank][round]
                do {
                    let values = try compute(job)
                    if values.count == resultCounts[job] {
                        results[job] = values
                    } else {
                        let message = "gave \(values.count) values, expected \(resultCounts[job])"
                        problem = DealtJobFailure(job: job, failure: RankFailure(rank: rank, category: .internal, message: message))
                    }
                } catch {
                    problem = DealtJobFailure(job: job, failure: RankFailure(rank: rank, error: error))
                }
            }
            if let failed = try agree(problem)?.failure { throw DealtRunError.jobFailed(job: failed.job, failure: failed.failure) }
            for owner in 0..<size where round < assignment.jobs[owner].count {
                let job = assignment.jobs[owner][round]
                if owner != rank { results[job] = [Float](repeating: 0, count: resultCounts[job]) }
                if resultCounts[job] > 0 { try broadcast(&results[job], root: owner) }
                done += 1
                doneCost += costs[job]
            }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            progress(DealtProgress(done: done, total: costs.count, doneCost: doneCost, totalCost: totalCost, seconds: seconds))
        }
        return results
    }
}
