// OpenBLAS's idle threads, made to sleep as soon as their work is done.
//
// After each multi-threaded product, OpenBLAS 0.3.21's worker threads spin (sched_yield in a loop) for 2²⁸
// cycles, about 0.1 s, before they sleep. A rank with several threads alternates OpenBLAS's threads with its own
// (row blocks, attention tasks, element-wise loops), so the spinning worker takes a core's share from the threads
// doing the work: `perf` of a SECURA-M1 step on 1 rank × 2 threads found 15 % of all samples in the spin.
// OpenBLAS reads its timeout (OPENBLAS_THREAD_TIMEOUT, 2^value cycles, 4…30) once, when the library loads,
// before `main` runs: so the process sets it and executes itself again, once, before anything else happens.
import Foundation

enum BLASThreadTimeout {
    /// The exponent set when the user set none: 2⁴ cycles, so a worker sleeps right after its job (waking it
    /// costs microseconds; products take milliseconds).
    static let exponent = "4"

    /// Re-executes this program with OPENBLAS_THREAD_TIMEOUT set, unless it (or OpenBLAS's older name,
    /// GOTO_THREAD_TIMEOUT) is set already; the user's value is kept. If the re-execution fails, the
    /// program goes on as it is (only slower on a rank with several threads).
    static func applyBeforeStart() {
        let environment = ProcessInfo.processInfo.environment
        guard environment["OPENBLAS_THREAD_TIMEOUT"] == nil, environment["GOTO_THREAD_TIMEOUT"] == nil else { return }
        setenv("OPENBLAS_THREAD_TIMEOUT", exponent, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
    }
}
