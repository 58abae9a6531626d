// The collective watchdog: no rank waits forever. Every collective of the MPI communicator is posted
// non-blocking (MPI_Iallreduce, MPI_Ibcast, MPI_Ibarrier) and completed by `complete`, which polls
// MPI_Test (Open MPI progresses non-blocking collectives only inside MPI calls) with a short back-off,
// until it completes or the deadline of CollectiveTimeout expires. MPI stays on the one MPI thread
// (FUNNELED), so on expiry that thread itself runs the census and calls MPI_Abort.
//
// Census (who did not arrive). Every rank counts the world and node collectives it has entered. A rank
// whose deadline expired sends its counters to every other rank (tag `censusRequestTag`) and waits
// `censusGrace` seconds for answers. Every rank answers census requests while it polls a collective of
// its own, so a rank that reached the stalled collective answers within milliseconds with a counter at
// least as high; a rank that answers with a lower counter waits in an earlier collective; a rank that
// does not answer at all is stopped (SIGSTOP), hung in computation, dead, or unreachable (a cut link).
// Why this rather than a periodic heartbeat: it costs nothing while the job is healthy (one MPI_Iprobe
// per poll), needs no one-sided window (Open MPI's osc over TCP would need the stopped target's own
// progress), and the information it gathers is exactly "which ranks got here", taken at the moment of
// the fault. Then the rank prints `step S: <collective> did not complete within T s; ranks that did not
// arrive: ...` and calls MPI_Abort with `watchdogExitCode`, which mpirun passes on as its exit status.
//
// Blocking sections that cannot be polled (ScaLAPACK's pdgesvd and the BLACS grid set-up, shared window
// allocation and freeing, MPI_Finalize) run under `BlockingWatchdog`, a thread that aborts the job when
// the deadline passes. It calls MPI_Abort from a thread other than the MPI thread, which FUNNELED does
// not strictly allow; Open MPI's abort only reports to its local daemon and exits, and if it has not
// ended the process 10 s later, the thread calls _exit, which makes mpirun end the job as well.
import CMPI
import Foundation
import SecuraDistributed

/// Exit status of a job ended by the watchdog (EX_TEMPFAIL: a transient failure, worth a requeue).
public let watchdogExitCode: Int32 = 75

/// Point-to-point tags of the census (the collectives run in their own context, so these never mix).
let censusRequestTag: Int32 = 0x5EC1
let censusReplyTag: Int32 = 0x5EC2

extension MPICommunicator {
    /// Records a finished step for the deadline rule and the messages (from the trainer).
    public func stepCompleted(_ step: Int, seconds: Double) {
        timeout.stepCompleted(step, seconds: seconds, at: MPICommunicator.now())
    }

    /// Monotonic seconds.
    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// Starts a collective: counts it, so the census can tell which collective each rank has reached.
    func enter(onNode: Bool) {
        if onNode { nodeCollectives += 1 } else { worldCollectives += 1 }
    }

    /// Polls `request` (a non-blocking collective just posted) to completion, answering census requests
    /// meanwhile; past the deadline, names the missing ranks and aborts the job.
    /// - Throws: `CommunicatorError.transport` if MPI_Test reports an error.
    func complete(_ request: inout MPI_Request?, _ operation: String, onNode: Bool = false) throws {
        let start = MPICommunicator.now()
        let limit = timeout.seconds(computedFor: start - lastCollectiveEnd)
        defer { lastCollectiveEnd = MPICommunicator.now() }
        var done: Int32 = 0
        var polls = 0
        while true {
            try MPICommunicator.check(MPI_Test(&request, &done, cmpi_status_ignore()), operation)
            if done != 0 { return }
            polls += 1
            let waited = MPICommunicator.now() - start
            if waited > limit { stalled(operation, waited: waited, limit: limit, onNode: onNode) }
            // Spin (yielding) for the first 50 ms, where almost every collective completes; then sleep
            // 0.1 ms, and 1 ms after a second, so a long wait costs little CPU and little latency.
            if waited < 0.05 {
                if polls % 64 == 0 { answerCensus() }
                sched_yield()
            } else {
                answerCensus()
                usleep(waited < 1 ? 100 : 1000)
            }
        }
    }

    /// Answers every pending census request with this rank's collective counters.
    func answerCensus() {
        var flag: Int32 = 0
        var status = MPI_Status()
        while MPI_Iprobe(cmpi_any_source(), censusRequestTag, world, &flag, &status) == cmpi_success(), flag != 0 {
            var request = [Int64](repeating: 0, count: 3)
            let source = status.MPI_SOURCE
            guard MPI_Recv(&request, 3, cmpi_int64(), source, censusRequestTag, world, cmpi_status_ignore())
                    == cmpi_success() else { return }
            send([Int64(worldCollectives), Int64(nodeCollectives), Int64(rank)], to: source, tag: censusReplyTag)
        }
    }

    /// Fire-and-forget send of a few integers: the buffer is deliberately never freed (this only happens
    /// while the job is being aborted) and the request is released at once, so nothing waits on a peer
    /// that may never receive.
    private func send(_ values: [Int64], to peer: Int32, tag: Int32) {
        let buffer = UnsafeMutablePointer<Int64>.allocate(capacity: values.count)
        buffer.initialize(from: values, count: values.count)
        var request: MPI_Request? = cmpi_request_null()
        if MPI_Isend(buffer, Int32(values.count), cmpi_int64(), peer, tag, world, &request) == cmpi_success() {
            _ = MPI_Request_free(&request)
        }
    }

    /// The deadline passed: asks every rank where it is, reports the ranks that did not arrive and
    /// aborts the job.
    func stalled(_ operation: String, waited: Double, limit: Double, onNode: Bool) -> Never {
        let mine = onNode ? nodeCollectives : worldCollectives
        let peers = (onNode ? nodeMembers : Array(0..<size)).filter { $0 != rank }
        for peer in 0..<size where peer != rank {
            send([Int64(worldCollectives), Int64(nodeCollectives), Int64(rank)], to: Int32(peer), tag: censusRequestTag)
        }
        var answers: [Int: Int] = [:]  // rank → its counter of the stalled kind
        let grace = timeout.censusGrace
        let start = MPICommunicator.now()
        while MPICommunicator.now() - start < grace, answers.count < size - 1 {
            answerCensus()
            var flag: Int32 = 0
            var status = MPI_Status()
            while MPI_Iprobe(cmpi_any_source(), censusReplyTag, world, &flag, &status) == cmpi_success(), flag != 0 {
                var reply = [Int64](repeating: 0, count: 3)
                let source = status.MPI_SOURCE
                guard MPI_Recv(&reply, 3, cmpi_int64(), source, censusReplyTag, world, cmpi_status_ignore())
                        == cmpi_success() else { break }
                answers[Int(source)] = Int(onNode ? reply[1] : reply[0])
            }
            usleep(1000)
        }
        var missing: [(rank: Int, reason: String)] = []
        for peer in peers {
            if let theirs = answers[peer] {
                if theirs < mine { missing.append((peer, "waits at an earlier collective, #\(theirs) of #\(mine)")) }
            } else {
                missing.append((peer, "no answer within \(CollectiveTimeout.format(grace)) s: stopped, hung, dead or unreachable"))
            }
        }
        let label = "\(operation) (\(onNode ? "node" : "world") collective #\(mine))"
        abort(code: watchdogExitCode, message: "watchdog: " + timeout.verdict(operation: label, limit: limit, waited: waited, missing: missing))
    }

    /// Runs `body`, a blocking MPI section that cannot be polled, under the blocking watchdog's deadline.
    /// Nested sections run under the outermost deadline.
    func withBlockingDeadline<T>(_ operation: String, _ body: () throws -> T) rethrows -> T {
        let limit = timeout.seconds(computedFor: MPICommunicator.now() - lastCollectiveEnd)
        let verdict: (Double) -> String = { [timeout] waited in
            "watchdog: " + timeout.verdict(operation: operation, limit: limit, waited: waited, missing: nil,
                                           why: "\(operation) blocks inside MPI/ScaLAPACK and cannot be polled for a census")
        }
        let armed = blockingWatchdog.arm(seconds: limit, verdict: verdict)
        defer { if armed { blockingWatchdog.disarm() } }
        return try body()
    }
}

/// A thread that ends the job when a blocking MPI section outlives its deadline (see the file header).
final class BlockingWatchdog: @unchecked Sendable {
    private let condition = NSCondition()
    private var deadline: Double?
    private var started = 0.0
    private var verdict: ((Double) -> String)?
    private var running = false
    private let prefix: String
    private let world: MPI_Comm?

    init(prefix: String, world: MPI_Comm?) {
        self.prefix = prefix
        self.world = world
    }

    /// Arms the deadline unless one is armed already; returns whether this call armed it.
    func arm(seconds: Double, verdict: @escaping (Double) -> String) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard deadline == nil else { return false }
        started = MPICommunicator.now()
        deadline = started + seconds
        self.verdict = verdict
        if !running {
            running = true
            let thread = Thread { [self] in watch() }
            thread.name = "secura-dist collective watchdog"
            thread.start()
        }
        condition.broadcast()
        return true
    }

    func disarm() {
        condition.lock()
        deadline = nil
        verdict = nil
        condition.unlock()
    }

    private func watch() {
        condition.lock()
        while true {
            guard let deadline else {
                condition.wait()
                continue
            }
            let now = MPICommunicator.now()
            if now < deadline {
                _ = condition.wait(until: Date(timeIntervalSinceNow: min(deadline - now, 1)))
                continue
            }
            let message = verdict?(now - started) ?? "watchdog: a blocking MPI section did not complete"
            condition.unlock()
            FileHandle.standardError.write(Data("\(prefix) \(message)\n".utf8))
            _ = MPI_Abort(world, watchdogExitCode)
            sleep(10)
            _exit(watchdogExitCode)
        }
    }
}
