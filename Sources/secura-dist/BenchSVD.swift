// `secura-dist bench-svd` (hidden): times CABR's A_init through the real solvers on random N(0, 0.02²)
// matrices of given shapes, checks each A against the slice identity W[:r, :m], and extrapolates to
// Llama-3-8B's 32 q_proj (4096×4096) + 32 v_proj (1024×4096). Solvers: `lapack` (one local SVD per
// matrix on rank 0, as a plain process does), `scalapack` (pdgesvd over all ranks, one matrix at a time:
// the old MPI path) and `dealt` (CABRInitBatch: each rank runs LAPACK on its own copies at once).
import ArgumentParser
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraLinAlg
import SecuraMPI
import SecuraTensor

extension LAPACKSVD.Driver: ExpressibleByArgument {}

struct BenchSVD: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-svd", abstract: "Time CABR's SVD initialisation on random matrices (for the developers).",
        shouldDisplay: false)

    enum Solver: String, ExpressibleByArgument, CaseIterable { case lapack, scalapack, dealt }

    @Option(help: "Matrix shapes HxD, comma-separated.")
    var shapes = "4096x4096,1024x4096"

    @Option(help: "lapack (one rank, one matrix at a time), scalapack (all ranks on each matrix), dealt (one matrix per rank at once).")
    var solver: Solver = .dealt

    @Option(help: "LAPACK driver of the lapack and dealt solvers: dgesvd, dgesdd, sgesdd.")
    var driver: LAPACKSVD.Driver = .dgesdd

    @Option(help: "With dealt: matrices per shape (default: one per rank).")
    var copies: Int?

    @Option(help: "CABR r (rows of A).")
    var r = 150

    @Option(help: "CABR m (columns of A).")
    var m = 200

    @Option(help: "Keep the top k singular triplets (default all; then A must equal W[:r, :m]).")
    var svdRank: Int?

    @Option(help: "Matrices of each shape in the extrapolation (Llama-3-8B: 32 q_proj and 32 v_proj).")
    var extrapolate = 32

    @OptionGroup var runtime: RuntimeOptions

    func run() throws {
        let parsed = try shapes.split(separator: ",").map { text -> (Int, Int) in
            let p = text.split(separator: "x").compactMap { Int($0) }
            guard p.count == 2, p[0] >= 1, p[1] >= 1 else { throw ValidationError("--shapes: '\(text)' is not HxD") }
            return (p[0], p[1])
        }
        try runReportingErrors(runtime) { comm in
            let say = RootPrinter(comm: comm)
            let n = copies ?? comm.size
            say("bench-svd: solver \(solver.rawValue)" + (solver == .scalapack ? "" : " (\(driver.rawValue))")
                + ", \(comm.size) rank(s), \(BLAS.threads) thread(s) per rank, r=\(r) m=\(m)"
                + (svdRank.map { ", svd rank \($0)" } ?? ""))
            var total = 0.0
            for (index, (h, d)) in parsed.enumerated() {
                let count = solver == .dealt ? n : 1
                // Seeds depend on the shape and copy only, so every rank builds the same matrices.
                let weights = (0..<count).map { c -> WeightView in
                    var rng = SeededRandom(seed: UInt64(1000 * index + c + 1))
                    let buffer = FloatBuffer(rng.normals(h * d, std: 0.02))
                    return WeightView(name: "w\(index).\(c)", dtype: .f32, shape: [h, d], data: UnsafeRawPointer(buffer.pointer),
                                      owner: buffer)
                }
                let rr = min(r, h), mm = min(m, d)
                try comm.barrier()
                let start = DispatchTime.now().uptimeNanoseconds
                let cpuStart = Self.cpuSeconds()
                let a: [[Float]]
                switch solver {
                case .dealt:
                    a = try CABRInitBatch.initialA(jobs: weights.map { .init(weight: $0, rank: rr, innerRank: mm) }, mode: .svd,
                                                   svdRank: svdRank, localSolver: LAPACKSVD(driver: driver), comm: comm)
                case .scalapack:
                    a = [try CABRInitializer.initialA(weight: weights[0], rank: rr, innerRank: mm, mode: .svd, svdRank: svdRank,
                                                      solver: ScaLAPACKSVD(communicator: comm))]
                case .lapack:
                    a = comm.isRoot ? [try CABRInitializer.initialA(weight: weights[0], rank: rr, innerRank: mm, mode: .svd,
                                                                    svdRank: svdRank, solver: LAPACKSVD(driver: driver))] : []
                }
                let cpu = try comm.allGather(value: Self.cpuSeconds() - cpuStart)
                try comm.barrier()
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                // Wall time per matrix of this shape when the run keeps every rank busy this way.
                let perMatrix = seconds / Double(count)
                total += perMatrix * Double(extrapolate)
                var worst = 0.0
                for (w, values) in zip(weights, a) where svdRank == nil {
                    let slice = try CABRInitializer.initialA(weight: w, rank: rr, innerRank: mm, mode: .slice, svdRank: nil,
                                                             solver: LAPACKSVD())
                    worst = max(worst, relativeDifference(values, slice))
                }
                say("  \(h)x\(d): \(count) matri\(count == 1 ? "x" : "ces") in " + String(format: "%.2f s", seconds)
                    + String(format: " (%.2f s per matrix of wall time)", perMatrix)
                    + "; CPU s per rank " + cpu.map { String(format: "%.1f", $0) }.joined(separator: ", ")
                    + (svdRank == nil ? String(format: "; A vs W[:r,:m]: max|a-b|/max|b| = %.2e", worst) : ""))
            }
            let peaks = try comm.allGather(value: Double(ProcessMemory.peakResidentBytes() ?? 0) / 1_048_576)
            say("  extrapolated to \(extrapolate) of each shape: " + String(format: "%.0f s", total)
                + " (\(CABRInitBatch.duration(total))); peak resident MiB per rank: "
                + peaks.map { String(format: "%.0f", $0) }.joined(separator: ", "))
        }
    }

    /// User + system CPU time of this process (all its threads). On a machine shared with other jobs the
    /// wall time stretches; the CPU time of a one-thread rank is what the wall time would be on an idle core.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func s(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return s(usage.ru_utime) + s(usage.ru_stime)
    }

    /// max|a − b| / max|b| (infinite for a length mismatch, an empty or a non-finite input).
    func relativeDifference(_ a: [Float], _ b: [Float]) -> Double {
        guard a.count == b.count, !a.isEmpty else { return .infinity }
        var diff = 0.0, scale = 0.0
        for (x, y) in zip(a, b) {
            guard x.isFinite, y.isFinite else { return .infinity }
            diff = max(diff, Double(abs(x - y)))
            scale = max(scale, Double(abs(y)))
        }
        return scale > 0 ? diff / scale : .infinity
    }
}
