// Options shared by every subcommand (threads), and the runtime they set up: the communicator,
// thread counts, and the mapping of errors to one clear message and an exit status (ErrorReport.swift).
import ArgumentParser
import Foundation
import SecuraDistributed
import SecuraMPI
import SecuraRun
import SecuraTensor

struct RuntimeOptions: ParsableArguments {
    @Option(help: "Compute threads per rank (OpenBLAS and element-wise kernels; 1…4096). Default: cores on this node divided by ranks on this node.")
    var threads: Int?

    @Option(help: ArgumentHelp("Seconds a rank may wait in one collective (all-reduce, barrier, broadcast, ScaLAPACK SVD) before the watchdog names the ranks that did not arrive and aborts the job with exit status 75.",
                               discussion: "Default: 600 s until this process completes its first step, then max(60 s, 10 × the slowest step so far)."))
    var collectiveTimeout: Double?

    /// Starts the communicator (MPI under mpirun, else single-process) and sets the thread counts.
    func start() throws -> Communicator {
        if let t = collectiveTimeout, !(t > 0 && t.isFinite) {
            throw ValidationError("--collective-timeout must be a positive number of seconds")
        }
        let comm = try makeCommunicator()
        if let mpi = comm as? MPICommunicator { mpi.timeout = CollectiveTimeout(fixed: collectiveTimeout) }
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let n = threads ?? max(1, cores / max(1, comm.localSize))
        guard SettingRanges.threads.contains(n) else { throw ValidationError("--threads: \(n) is outside 1…4096") }
        BLAS.setThreads(n)
        Parallel.threads = n
        return comm
    }
}

/// Prints to standard output on rank 0 only, flushing every line (progress must show up in batch logs).
struct RootPrinter {
    let comm: Communicator
    /// Where rank 0's lines go instead of standard output, if set.
    var sink: ((String) -> Void)? = nil
    func callAsFunction(_ text: String) {
        guard comm.isRoot else { return }
        if let sink { sink(text); return }
        print(text)
        fflush(stdout)
    }
}

/// Runs a subcommand body; any error becomes one message on standard error and the exit status of its
/// category (ErrorReport: 64 usage, 65 data, 70 internal, 74 I/O, 75 transport). Under MPI the whole
/// job is aborted with that status, naming the failing rank.
func runReportingErrors(_ options: RuntimeOptions, _ body: (Communicator) throws -> Void) throws {
    let comm: Communicator
    do {
        comm = try options.start()
    } catch {
        FileHandle.standardError.write(Data("secura-dist: error: \(ErrorReport.message(for: error))\n".utf8))
        throw ExitCode(ErrorReport.exitCode(for: error))
    }
    do {
        try body(comm)
        comm.finalize()
    } catch let exit as ExitCode {
        throw exit
    } catch {
        let text = ErrorReport.message(for: error), code = ErrorReport.exitCode(for: error)
        let message = comm.size > 1 ? "secura-dist: error on rank \(comm.rank) of \(comm.size): \(text)"
                                    : "secura-dist: error: \(text)"
        if comm.size > 1 { comm.abort(code: code, message: message) }
        FileHandle.standardError.write(Data((message + "\n").utf8))
        throw ExitCode(code)
    }
}

/// JSON text of an Encodable value, keys sorted, as one line; non-finite numbers as "NaN", "Infinity",
/// "-Infinity" (JSON has none; see `JSONText`).
func jsonLine<T: Encodable>(_ value: T) throws -> String {
    try JSONText.line(value)
}
