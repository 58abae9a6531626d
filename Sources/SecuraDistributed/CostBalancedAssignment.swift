// Deals independent jobs of known relative cost (e.g. one SVD per adapted matrix) to ranks so the
// ranks' total costs are close: the greedy "longest processing time first" rule. Jobs are taken in
// order of decreasing cost (ties: lower job index first) and each goes to the rank with the least cost
// so far (ties: lower rank). The result depends only on the costs and the rank count, so every rank
// computes the same assignment without communicating. LPT's largest load is at most 4/3 of the optimum;
// for CABR's jobs (a few shape classes, many of each) it is within one small job of perfect balance.

/// Which rank runs which job.
public struct CostBalancedAssignment: Equatable, Sendable {
    /// `owner[job]` is the rank that runs job `job`.
    public let owner: [Int]
    /// `jobs[rank]` lists that rank's jobs in the order it runs them: decreasing cost, then job index.
    public let jobs: [[Int]]
    /// Total cost per rank.
    public let load: [Double]

    /// Deals `costs.count` jobs to `ranks` ranks.
    /// - Precondition: `ranks ≥ 1` and every cost is finite and non-negative.
    public init(costs: [Double], ranks: Int) {
        precondition(ranks >= 1, "an assignment needs at least one rank")
        precondition(costs.allSatisfy { $0.isFinite && $0 >= 0 }, "job costs must be finite and non-negative")
        let order = costs.indices.sorted { costs[$0] != costs[$1] ? costs[$0] > costs[$1] : $0 < $1 }
        var owner = [Int](repeating: 0, count: costs.count)
        var jobs = [[Int]](repeating: [], count: ranks)
        var load = [Double](repeating: 0, count: ranks)
        for job in order {
            var best = 0
            for r in 1..<ranks where load[r] < load[best] { best = r }
            owner[job] = best
            jobs[best].append(job)
            load[best] += costs[job]
        }
        self.owner = owner
        self.jobs = jobs
        self.load = load
    }

    /// Rounds of the dealt run: round `i` holds every rank's `i`-th job (fewer in the last rounds).
    public var rounds: Int { jobs.map(\.count).max() ?? 0 }

    /// Largest rank load over the mean load (1 = perfect balance; 1 for no jobs).
    public var imbalance: Double {
        let total = load.reduce(0, +)
        guard total > 0 else { return 1 }
        return (load.max() ?? 0) / (total / Double(load.count))
    }
}

/// Relative cost of a thin SVD with singular vectors of an m × n matrix: the Golub–Van Loan operation
/// count 4·M·N² + 8·N³ with M = max(m, n), N = min(m, n) (bidiagonalisation plus forming the vectors).
/// Only ratios matter: a 4096² matrix costs 32 times a 1024 × 4096 one.
public func svdCost(rows: Int, columns: Int) -> Double {
    let big = Double(max(rows, columns)), small = Double(min(rows, columns))
    return 4 * big * small * small + 8 * small * small * small
}
