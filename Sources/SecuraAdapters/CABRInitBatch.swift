// CABR's A_init for every adapted matrix of a run at once. The matrices are independent, so with the SVD
// init they are dealt to ranks by cost (Communicator.runDealt): each rank runs a local (LAPACK) SVD on its
// own matrices, all ranks at the same time, and each A (r×m floats, not the much larger U and Vᵀ) is
// broadcast from the rank that computed it. Every rank ends with bit-identical A, and the A of a matrix
// does not depend on the rank count: it is always one local SVD of the whole matrix. The slice init
// needs no dealing: every rank copies W[:r, :m] itself.
import Foundation
import SecuraDistributed
import SecuraModel
import SecuraTensor

public enum CABRInitBatch {
    /// The CABR-family sites of `plans` (the matrices that need an A).
    public static func sites(_ plans: [SitePlan]) -> [SitePlan] { plans.filter { $0.innerRank > 0 } }

    /// One adapted matrix: its weight W [H, D] and A's shape r × m (already clamped to W's shape).
    public struct Job {
        public let weight: WeightView
        public let rank: Int, innerRank: Int

        public init(weight: WeightView, rank: Int, innerRank: Int) {
            self.weight = weight
            self.rank = rank
            self.innerRank = innerRank
        }
    }

    /// A_init [r, m] for every CABR site of `plans`, on every rank (see `initialA(jobs:...)`).
    public static func initialA(plans: [SitePlan], base: WeightSource, settings: MethodSettings,
                                localSolver: SVDSolver, comm: Communicator, logInterval: Double = 5,
                                log: (String) -> Void = { _ in }) throws -> [LinearSite: [Float]] {
        let cabr = sites(plans)
        let jobs = try cabr.map { Job(weight: try base.view($0.site.weightName), rank: $0.rank, innerRank: $0.innerRank) }
        let values = try initialA(jobs: jobs, mode: settings.cabrInit, svdRank: settings.cabrSVDRank,
                                  localSolver: localSolver, comm: comm, logInterval: logInterval, log: log)
        var out: [LinearSite: [Float]] = [:]
        for (p, a) in zip(cabr, values) { out[p.site] = a }
        return out
    }

    /// A_init [r, m] for every job, in job order, bit-identical on every rank.
    /// - Parameters:
    ///   - localSolver: the SVD one rank runs on a whole matrix by itself (LAPACK); never collective.
    ///   - comm: the ranks to deal the matrices to (collective over all of them).
    ///   - log: progress lines (`cabr init: 12/64 matrices, 41 s, ETA 3m10s`), at most one per
    ///     `logInterval` seconds plus the last; called on every rank (print on rank 0 only).
    /// - Throws: `DealtRunError` naming the job and the rank whose SVD failed.
    public static func initialA(jobs: [Job], mode: CABRInit, svdRank: Int?, localSolver: SVDSolver,
                                comm: Communicator, logInterval: Double = 5,
                                log: (String) -> Void = { _ in }) throws -> [[Float]] {
        guard mode == .svd else {
            return try jobs.map {
                try CABRInitializer.initialA(weight: $0.weight, rank: $0.rank, innerRank: $0.innerRank, mode: .slice,
                                             svdRank: nil, solver: localSolver)
            }
        }
        let costs = jobs.map { svdCost(rows: $0.weight.shape[0], columns: $0.weight.shape[1]) }
        var lastLog = 0.0
        return try comm.runDealt(costs: costs, resultCounts: jobs.map { $0.rank * $0.innerRank }, compute: { i in
            let j = jobs[i]
            return try CABRInitializer.initialA(weight: j.weight, rank: j.rank, innerRank: j.innerRank, mode: .svd,
                                                svdRank: svdRank, solver: localSolver)
        }, progress: { state in
            guard state.done == state.total || state.seconds - lastLog >= logInterval else { return }
            lastLog = state.seconds
            log(progressLine(state))
        })
    }

    /// `cabr init: 12/64 matrices, 41 s, ETA 3m10s`.
    public static func progressLine(_ s: DealtProgress) -> String {
        var line = "cabr init: \(s.done)/\(s.total) matrices, \(duration(s.seconds))"
        if s.done < s.total, let eta = s.remainingSeconds { line += ", ETA " + duration(eta) }
        return line
    }

    /// `41 s`, `3m10s`, `1h05m`.
    public static func duration(_ seconds: Double) -> String {
        let t = Int(seconds.rounded())
        if t >= 3600 { return "\(t / 3600)h" + String(format: "%02dm", t % 3600 / 60) }
        if t >= 60 { return "\(t / 60)m" + String(format: "%02ds", t % 60) }
        return seconds < 10 ? String(format: "%.1f s", seconds) : "\(t) s"
    }
}
