// `secura-dist doctor`: checks the native libraries and the MPI set-up on every rank: the rank → host
// map, an OpenBLAS sgemm against a naive loop, the ScaLAPACK SVD against LAPACK on a seeded matrix, and
// node-shared memory (one buffer per node, written in shards and read back by every rank).
// Works as a plain process and under mpirun. Only rank 0 prints; the verdict is broadcast so every rank
// exits with the same status, and an error on any rank aborts the whole job with that rank's reason.
import ArgumentParser
import Foundation
import SecuraDistributed
import SecuraMPI

struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the native libraries and the MPI set-up")

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Option(help: "Rows of the SVD test matrix.")
    var rows = 96

    @Option(help: "Columns of the SVD test matrix.")
    var columns = 80

    @Option(help: "ScaLAPACK block size (default: chosen from the matrix and the process grid).")
    var blockSize: Int?

    @Option(help: "BLAS threads per rank (default: cores on the node / ranks on the node).")
    var threads: Int?

    @Flag(name: .customLong("shm"), help: .hidden)  // also check node-shared memory's lifecycle and errors
    var nodeSharedLifecycle = false

    @Option(name: .customLong("shm-mib"), help: .hidden)  // node-shared test buffer size
    var nodeSharedMiB = 16

    /// Largest accepted relative error for each numerical check (fp32 results of double computations).
    static let tolerance = 1e-5

    func validate() throws {
        guard rows >= 1, columns >= 1 else { throw ValidationError("--rows and --columns must be at least 1") }
        if let blockSize, blockSize < 1 { throw ValidationError("--block-size must be at least 1") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if nodeSharedMiB < 1 { throw ValidationError("--shm-mib must be at least 1") }
    }

    func run() throws {
        let communicator: Communicator
        do {
            communicator = try makeCommunicator()
        } catch {
            FileHandle.standardError.write(Data("doctor: cannot start MPI: \(error)\n".utf8))
            throw ExitCode(ErrorReport.exitCode(for: error))
        }
        let report: Report
        do {
            report = try check(communicator)
        } catch {
            communicator.abort(code: ErrorReport.exitCode(for: error), message: "doctor: rank \(communicator.rank) failed: \(error)")
        }
        var verdict: [UInt8] = [report.ok ? 1 : 0]
        do {
            try communicator.broadcast(&verdict, root: 0)
            if communicator.isRoot { print(json ? report.json() : report.text()) }
        } catch {
            communicator.abort(code: ErrorReport.exitCode(for: error), message: "doctor: rank \(communicator.rank) failed: \(error)")
        }
        communicator.finalize()
        if verdict[0] == 0 { throw ExitCode.failure }
    }

    /// Runs every check; collective over `communicator`.
    private func check(_ communicator: Communicator) throws -> Report {
        let blasThreads = threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / communicator.localSize)
        NativeSelfTest.setBLASThreads(blasThreads)
        let entries = try communicator.allGather(
            string: "\(communicator.hostName)\t\(communicator.localRank)\t\(communicator.localSize)")
        // Every rank's OPENBLAS_THREAD_TIMEOUT (set before start by BLASThreadTimeout unless the user set it).
        let timeouts = try communicator.allGather(
            string: ProcessInfo.processInfo.environment["OPENBLAS_THREAD_TIMEOUT"] ?? "unset")
        var sgemmError = [Float(NativeSelfTest.sgemmMaxError())]
        try communicator.allReduceMax(&sgemmError)  // the worst rank's error
        let reductionsIdentical = try NativeSelfTest.allReduceIsIdentical(communicator: communicator)
        let svd = try NativeSelfTest.svdCheck(communicator: communicator, rows: rows, columns: columns,
                                              blockSize: blockSize)
        var nodeShared = try NativeSelfTest.nodeSharedCheck(communicator: communicator, megabytes: nodeSharedMiB)
        if nodeSharedLifecycle {
            nodeShared.lifecycle = try NativeSelfTest.nodeSharedLifecycleCheck(communicator: communicator)
        }
        return Report(
            transport: communicator is MPICommunicator ? MPICommunicator.libraryVersion : "single process (no MPI)",
            blas: NativeSelfTest.blasConfiguration, blasCore: NativeSelfTest.blasCoreName,
            blasAdvice: NativeSelfTest.blasCoreAdvice(), blasThreads: blasThreads,
            blasThreadTimeout: Set(timeouts).count == 1 ? timeouts[0] : timeouts.joined(separator: ","),
            ranks: entries.enumerated().map { rank, entry in
                let fields = entry.split(separator: "\t", omittingEmptySubsequences: false)
                return RankEntry(rank: rank, host: String(fields[0]), localRank: Int(fields[1]) ?? -1,
                                 localSize: Int(fields[2]) ?? -1)
            },
            sgemmMaxRelativeError: Double(sgemmError[0]), reductionsIdentical: reductionsIdentical, svd: svd,
            nodeShared: nodeShared)
    }
}

/// One rank's place in the job.
private struct RankEntry: Codable {
    var rank: Int
    var host: String
    var localRank: Int
    var localSize: Int
}

/// Everything the doctor measured, with the verdicts; printed by rank 0.
private struct Report {
    var transport: String
    var blas: String
    var blasCore: String
    var blasAdvice: String?
    var blasThreads: Int
    /// OPENBLAS_THREAD_TIMEOUT of the ranks: one value when all agree, else every rank's, comma-separated.
    var blasThreadTimeout: String
    var ranks: [RankEntry]
    var sgemmMaxRelativeError: Double
    var reductionsIdentical: Bool
    var svd: NativeSelfTest.SVDReport
    var nodeShared: NativeSelfTest.NodeSharedReport

    var sgemmOK: Bool { sgemmMaxRelativeError <= Doctor.tolerance }
    var svdErrors: [(name: String, value: Double?)] {
        [("singular values vs LAPACK", svd.singularValueError),
         ("singular values without vectors vs with", svd.valuesOnlyError),
         ("reconstruction U·diag(S)·Vᵀ vs A", svd.reconstructionError),
         ("leading block U[:r,:]·diag(S)·Vᵀ[:,:c] vs A[:r,:c]", svd.leadingBlockError)]
    }
    var svdOK: Bool { svd.identicalOnAllRanks && svdErrors.allSatisfy { ($0.value ?? .infinity) <= Doctor.tolerance } }
    var ok: Bool { sgemmOK && reductionsIdentical && svdOK && nodeShared.ok }

    func text() -> String {
        func verdict(_ ok: Bool) -> String { ok ? "ok" : "FAILED" }
        func number(_ value: Double?) -> String { value.map { String(format: "%.2e", $0) } ?? "n/a" }
        var lines = ["secura-dist doctor",
                     "  transport: \(transport), \(ranks.count) rank\(ranks.count == 1 ? "" : "s")",
                     "  BLAS: \(blas), core \(blasCore), \(blasThreads) thread\(blasThreads == 1 ? "" : "s") per rank, "
                     + "idle threads sleep after 2^\(blasThreadTimeout) cycles (OPENBLAS_THREAD_TIMEOUT)"]
        if let blasAdvice { lines.append("  note: \(blasAdvice)") }
        for entry in ranks {
            lines.append("  rank \(entry.rank) -> \(entry.host) (local \(entry.localRank) of \(entry.localSize))")
        }
        lines.append("  sgemm vs naive loop: max rel error \(number(sgemmMaxRelativeError))  \(verdict(sgemmOK))")
        lines.append("  all-reduce sums bit-identical on all ranks: \(reductionsIdentical ? "yes" : "no")  "
                     + verdict(reductionsIdentical))
        let layout = svd.method.hasPrefix("ScaLAPACK")
            ? "\(svd.grid.rows)x\(svd.grid.columns) grid, block \(svd.blockSize)" : "single process"
        lines.append("  SVD \(svd.rows)x\(svd.columns) with \(svd.method) (\(layout)):")
        for (name, value) in svdErrors {
            lines.append("    \(name): max rel error \(number(value))  \(verdict((value ?? .infinity) <= Doctor.tolerance))")
        }
        lines.append("    (LAPACK's own reconstruction error: \(number(svd.lapackReconstructionError)))")
        lines.append("    bit-identical on all ranks: \(svd.identicalOnAllRanks ? "yes" : "no")  "
                     + verdict(svd.identicalOnAllRanks))
        lines += nodeShared.textLines
        lines.append("doctor: \(verdict(ok))")
        return lines.joined(separator: "\n")
    }

    func json() -> String {
        struct Output: Codable {
            var ok: Bool
            var transport: String
            var blas: String
            var blasCore: String
            var blasAdvice: String?
            var blasThreads: Int
            var blasThreadTimeout: String
            var ranks: [RankEntry]
            var sgemmMaxRelativeError: Double
            var reductionsIdentical: Bool
            var svdMethod: String
            var svdRows: Int
            var svdColumns: Int
            var svdGrid: [Int]
            var svdBlockSize: Int
            var svdSingularValueError: Double?
            var svdReconstructionError: Double?
            var svdLeadingBlockError: Double?
            var svdValuesOnlyError: Double?
            var lapackReconstructionError: Double?
            var svdIdenticalOnAllRanks: Bool
            var nodeShared: NativeSelfTest.NodeSharedReport
        }
        let output = Output(ok: ok, transport: transport, blas: blas, blasCore: blasCore, blasAdvice: blasAdvice,
                            blasThreads: blasThreads, blasThreadTimeout: blasThreadTimeout, ranks: ranks, sgemmMaxRelativeError: sgemmMaxRelativeError,
                            reductionsIdentical: reductionsIdentical, svdMethod: svd.method, svdRows: svd.rows,
                            svdColumns: svd.columns, svdGrid: [svd.grid.rows, svd.grid.columns],
                            svdBlockSize: svd.blockSize, svdSingularValueError: svd.singularValueError,
                            svdReconstructionError: svd.reconstructionError,
                            svdLeadingBlockError: svd.leadingBlockError,
                            svdValuesOnlyError: svd.valuesOnlyError,
                            lapackReconstructionError: svd.lapackReconstructionError,
                            svdIdenticalOnAllRanks: svd.identicalOnAllRanks, nodeShared: nodeShared)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(output)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}
