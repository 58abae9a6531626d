// CABR's initial A for a training run: read from the init cache folder when a valid entry exists, otherwise
// computed by the configured solver (dealt: one LAPACK dgesdd per matrix, matrices dealt to ranks by cost;
// scalapack: every rank on each matrix in turn, the earlier path), and written back to the cache by rank 0
// once the adapters hold it.
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraModel
import SecuraTensor
import SecuraTrain

struct CABRInitRun {
    let settings: CABRSVDSettings
    let modelPath: String
    let comm: Communicator
    let solvers: SVDSolvers?
    let note: (String) -> Void

    /// What `prepare` found or computed.
    struct Prepared {
        /// A per site (empty: AdapterSet computes it with the collective solver).
        var values: [LinearSite: [Float]] = [:]
        /// The solver named in the summary line, or nil to keep the caller's.
        var method: String?
        /// The cache key to write after the adapters are built (nil: nothing to write).
        var pendingKey: CABRInitCache.Key?
    }

    /// The name of the solver that makes A (part of the cache key).
    func solverName(_ settings: MethodSettings) -> String {
        guard settings.cabrInit == .svd else { return "slice" }
        switch self.settings.solver {
        case .dealt: return "\(solvers?.localName ?? "no local solver") dealt to ranks"
        case .scalapack: return comm.size > 1 ? "ScaLAPACK pdgesvd" : "LAPACK dgesvd"
        }
    }

    func prepare(loaded: LoadedModel, settings: MethodSettings) throws -> Prepared {
        guard settings.method.definition.usesCABRInit, settings.cabrInit == .svd else { return Prepared() }
        var layout = ParameterLayout()
        let plans = MethodPlanner.plan(loaded.config, settings, layout: &layout)
        var prepared = Prepared()
        if let folder = self.settings.cacheFolder {
            let key = try CABRInitCache.key(modelPath: modelPath, base: loaded.source, plans: plans, settings: settings,
                                            solver: solverName(settings))
            let start = Date()
            switch try CABRInitCache.read(folder: folder, key: key, plans: plans, comm: comm) {
            case let .hit(values):
                note("cabr init: read from cache \(CABRInitCache.path(in: folder, key: key)) "
                    + String(format: "(%d matrices, %.2f s)", values.count, Date().timeIntervalSince(start)))
                return Prepared(values: values, method: "cache")
            case let .miss(reason):
                note("cabr init: cache not used: \(reason); computing")
                prepared.pendingKey = key
            }
        }
        guard self.settings.solver == .dealt else { return prepared }
        prepared.values = try CABRInitBatch.initialA(plans: plans, base: loaded.source, settings: settings,
                                                     localSolver: solvers?.local ?? UnavailableSVD(), comm: comm) { note($0) }
        prepared.method = solverName(settings) + (comm.size > 1 ? " (\(comm.size) ranks)" : "")
        return prepared
    }

    /// Writes the adapters' initial A to the cache (rank 0), if `prepare` asked for it. A failure is a
    /// warning: the run itself has what it needs.
    func store(_ prepared: Prepared, adapters: AdapterSet) {
        guard let key = prepared.pendingKey, let folder = settings.cacheFolder, comm.isRoot else { return }
        let values = adapters.cabr.mapValues { $0.values.a }
        do {
            let file = try CABRInitCache.write(folder: folder, key: key, plans: adapters.plans, values: values)
            note("cabr init: wrote cache \(file)")
        } catch {
            note("cabr init: warning: could not write the cache: \(error)")
        }
    }
}
