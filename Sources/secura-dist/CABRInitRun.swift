// CABR's initial A for `train`: read from `--cabr-init-cache DIR` when a valid entry exists, otherwise
// computed by `--cabr-svd-solver` (dealt: one LAPACK dgesdd per matrix, matrices dealt to ranks by cost;
// scalapack: every rank on each matrix in turn, the earlier path), and written back to the cache by rank 0
// once the adapters hold it.
import ArgumentParser
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraErrors
import SecuraLinAlg
import SecuraModel
import SecuraMPI
import SecuraTensor
import SecuraTrain

/// How the SVD init spreads over the ranks.
enum CABRSVDSolver: String, ExpressibleByArgument, CaseIterable {
    /// Whole matrices dealt to ranks, LAPACK dgesdd on each, A broadcast from its owner.
    case dealt
    /// ScaLAPACK pdgesvd over all ranks, one matrix at a time.
    case scalapack
}

struct CABRInitRun {
    let options: MethodOptions
    let modelPath: String
    let comm: Communicator
    let say: RootPrinter

    /// The local driver of the dealt path (see LocalSVD.swift; README gives the measurements).
    static let driver = LAPACKSVD.Driver.dgesdd

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
        switch options.cabrSvdSolver {
        case .dealt: return "LAPACK \(Self.driver.rawValue) dealt to ranks"
        case .scalapack: return comm.size > 1 ? "ScaLAPACK pdgesvd" : "LAPACK dgesvd"
        }
    }

    func prepare(loaded: LoadedModel, settings: MethodSettings) throws -> Prepared {
        guard settings.method.definition.usesCABRInit, settings.cabrInit == .svd else { return Prepared() }
        var layout = ParameterLayout()
        let plans = MethodPlanner.plan(loaded.config, settings, layout: &layout)
        var prepared = Prepared()
        if let folder = options.cabrInitCache {
            let key = try CABRInitCache.key(modelPath: modelPath, base: loaded.source, plans: plans, settings: settings,
                                            solver: solverName(settings))
            let start = Date()
            switch try CABRInitCache.read(folder: folder, key: key, plans: plans, comm: comm) {
            case let .hit(values):
                say("cabr init: read from cache \(CABRInitCache.path(in: folder, key: key)) "
                    + String(format: "(%d matrices, %.2f s)", values.count, Date().timeIntervalSince(start)))
                return Prepared(values: values, method: "cache")
            case let .miss(reason):
                say("cabr init: cache not used: \(Setting.renaming(reason, ErrorReport.flags)); computing")
                prepared.pendingKey = key
            }
        }
        guard options.cabrSvdSolver == .dealt else { return prepared }
        prepared.values = try CABRInitBatch.initialA(plans: plans, base: loaded.source, settings: settings,
                                                     localSolver: LAPACKSVD(driver: Self.driver), comm: comm) { say($0) }
        prepared.method = solverName(settings) + (comm.size > 1 ? " (\(comm.size) ranks)" : "")
        return prepared
    }

    /// Writes the adapters' initial A to the cache (rank 0), if `prepare` asked for it. A failure is a
    /// warning: the run itself has what it needs.
    func store(_ prepared: Prepared, adapters: AdapterSet) {
        guard let key = prepared.pendingKey, let folder = options.cabrInitCache, comm.isRoot else { return }
        let values = adapters.cabr.mapValues { $0.values.a }
        do {
            let file = try CABRInitCache.write(folder: folder, key: key, plans: adapters.plans, values: values)
            say("cabr init: wrote cache \(file)")
        } catch {
            say("cabr init: warning: could not write the cache: \(error)")
        }
    }
}
