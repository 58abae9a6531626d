// The in-process world: N ranks as N threads of one process, for unit tests that exercise collective
// code without mpirun. `InProcessWorld.run(ranks:)` starts the threads, hands each an
// `InProcessCommunicator`, joins them and rethrows the first failure. The world object below is the
// shared rendezvous: every collective is two reusable barrier phases (deposit, then release) guarded by
// one lock, and any failure (a thrown error, an abort, a rank that leaves early) wakes every waiting
// rank with an error instead of letting the test hang. Rendezvous happen per group: the whole world, or
// one simulated node (ranks r·ranksPerNode ..< (r+1)·ranksPerNode) for node collectives. The world also
// hands out node-shared memory: the ranks of a node asking for their k-th allocation get one buffer.
import Foundation
import SecuraErrors
#if canImport(Glibc)
import Glibc
#endif

/// Why an in-process world ended badly, as reported by `InProcessWorld.run`.
public enum InProcessWorldError: CategorizedError, CustomStringConvertible {
    /// A rank called `abort(code:message:)`.
    case aborted(rank: Int, code: Int32, message: String)
    /// A rank's body threw.
    case rankFailed(rank: Int, underlying: Error)

    /// A failed rank's error keeps its category; an abort is what a rank does on an internal failure.
    public var category: ErrorCategory {
        switch self {
        case .aborted: return .internal
        case let .rankFailed(_, underlying): return ErrorCategory(of: underlying)
        }
    }

    public var description: String {
        switch self {
        case let .aborted(rank, code, message):
            return "rank \(rank) aborted the in-process world (code \(code)): \(message)"
        case let .rankFailed(rank, underlying):
            return "rank \(rank) failed: \(underlying)"
        }
    }
}

/// The state shared by the ranks of one in-process world.
public final class InProcessWorld {
    /// What one rank brought to the current collective.
    struct Deposit {
        var operation: String
        var count: Int
        var root: Int
        var pointer: UnsafeMutableRawPointer?
    }

    /// Number of ranks.
    public let size: Int
    /// Ranks per simulated node (host names are "node0", "node1", ...).
    public let ranksPerNode: Int

    /// The ranks that meet in one collective: all of them, or the ranks of one node.
    enum Group: Hashable {
        case world
        case node(Int)
    }

    /// One group's reusable barrier state.
    private struct Phase {
        var arrived = 0
        var generation = 0
        var deposits: [Deposit]
    }

    private let lock = NSCondition()
    private var phases: [Group: Phase] = [:]
    private var finishedRanks = 0
    private var finishedPerNode: [Int]
    private var failure: InProcessWorldError?
    /// pthread identity of each rank's thread, so `abort` knows whether it may end the calling thread.
    private var rankThreads: [pthread_t?]
    /// Node-shared buffers not yet picked up by every rank of their node, by (node, sequence number).
    private var pendingShared: [NodeAllocation: (memory: InProcessNodeMemory, pickedUp: Int)] = [:]

    init(size: Int, ranksPerNode: Int) {
        self.size = size
        self.ranksPerNode = ranksPerNode
        let empty = Deposit(operation: "", count: 0, root: -1, pointer: nil)
        phases[.world] = Phase(deposits: Array(repeating: empty, count: size))
        let nodes = (size + ranksPerNode - 1) / ranksPerNode
        finishedPerNode = Array(repeating: 0, count: nodes)
        rankThreads = Array(repeating: nil, count: size)
        for node in 0..<nodes {
            phases[.node(node)] = Phase(deposits: Array(repeating: empty, count: nodeSize(node)))
        }
    }

    /// Number of ranks on `node` (the last node may have fewer).
    func nodeSize(_ node: Int) -> Int {
        min(ranksPerNode, size - node * ranksPerNode)
    }

    /// Runs `body` on `ranks` threads, one communicator each, and returns their results in rank order.
    ///
    /// - Parameters:
    ///   - ranks: world size, at least 1.
    ///   - ranksPerNode: ranks per simulated node (default: all on one node); sets localRank/localSize.
    ///   - body: the per-rank program. It must call the same collectives in the same order on every rank.
    /// - Throws: the first failure in time: `InProcessWorldError.aborted` if a rank aborted, otherwise
    ///   the error a rank's body threw (ranks that then failed only because a peer was gone are not
    ///   reported).
    public static func run<T>(ranks: Int, ranksPerNode: Int? = nil,
                              _ body: @escaping (InProcessCommunicator) throws -> T) throws -> [T] {
        precondition(ranks >= 1, "an in-process world needs at least one rank")
        let perNode = max(1, min(ranksPerNode ?? ranks, ranks))
        let world = InProcessWorld(size: ranks, ranksPerNode: perNode)
        let results = ResultSlots<T>(count: ranks)
        var threads: [pthread_t] = []
        for rank in 0..<ranks {
            let communicator = InProcessCommunicator(world: world, rank: rank)
            threads.append(startThread {
                world.register(rank: rank)
                do {
                    results.store(try body(communicator), at: rank)
                } catch {
                    world.fail(.rankFailed(rank: rank, underlying: error))
                }
                world.finish(rank: rank)
            })
        }
        for thread in threads { pthread_join(thread, nil) }
        if let failure = world.currentFailure {
            if case let .rankFailed(_, underlying) = failure { throw underlying }
            throw failure
        }
        return results.values()
    }

    // MARK: Rendezvous

    /// One barrier phase of `group`: deposit (optionally), wait for every rank of the group, return the
    /// group's deposits (indexed by rank for the world, by local rank for a node).
    /// Throws if the world has failed or a rank of the group has left while others still wait.
    func arrive(rank: Int, group: Group = .world, operation: String, deposit: Deposit?) throws -> [Deposit] {
        lock.lock()
        defer { lock.unlock() }
        try checkAlive(group: group, operation: operation)
        var phase = phases[group]!
        if let deposit { phase.deposits[group == .world ? rank : rank % ranksPerNode] = deposit }
        let myGeneration = phase.generation
        phase.arrived += 1
        if phase.arrived == phase.deposits.count {
            phase.arrived = 0
            phase.generation += 1
            phases[group] = phase
            lock.broadcast()
            return phase.deposits
        }
        phases[group] = phase
        while phases[group]!.generation == myGeneration {
            try checkAlive(group: group, operation: operation)
            lock.wait()
        }
        return phases[group]!.deposits
    }

    private func checkAlive(group: Group, operation: String) throws {
        if let failure {
            throw CommunicatorError.transport(operation: operation, code: -1,
                                              message: "in-process world failed: \(failure)")
        }
        let finished: Int
        switch group {
        case .world: finished = finishedRanks
        case let .node(node): finished = finishedPerNode[node]
        }
        if finished > 0 {
            throw CommunicatorError.transport(operation: operation, code: -1,
                                              message: "a rank returned while others wait in a collective")
        }
    }

    /// The buffer for the `sequence`-th node-shared allocation of `node`: created (zero-filled) by the
    /// first of the node's ranks to ask, the same object for the others. The world forgets it once every
    /// rank of the node has picked it up, so the memory lives exactly as long as the ranks' references.
    func nodeMemory(node: Int, sequence: Int, count: Int) -> InProcessNodeMemory {
        lock.lock()
        defer { lock.unlock() }
        let key = NodeAllocation(node: node, sequence: sequence)
        var entry = pendingShared[key] ?? (memory: InProcessNodeMemory(count: count), pickedUp: 0)
        entry.pickedUp += 1
        pendingShared[key] = entry.pickedUp == nodeSize(node) ? nil : entry
        return entry.memory
    }

    /// Records the first failure and wakes every waiting rank.
    func fail(_ error: InProcessWorldError) {
        lock.lock()
        if failure == nil { failure = error }
        lock.broadcast()
        lock.unlock()
    }

    private func finish(rank: Int) {
        lock.lock()
        finishedRanks += 1
        finishedPerNode[rank / ranksPerNode] += 1
        lock.broadcast()
        lock.unlock()
    }

    private func register(rank: Int) {
        lock.lock()
        rankThreads[rank] = pthread_self()
        lock.unlock()
    }

    /// True when the calling thread is `rank`'s own thread.
    func isOwnThread(rank: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let thread = rankThreads[rank] else { return false }
        return pthread_equal(thread, pthread_self()) != 0
    }

    var currentFailure: InProcessWorldError? {
        lock.lock()
        defer { lock.unlock() }
        return failure
    }
}

/// Identifies one node-shared allocation: the node and the allocation's sequence number on that node.
struct NodeAllocation: Hashable {
    var node: Int
    var sequence: Int
}

/// The memory of one in-process node-shared buffer, zero-filled; freed when the last rank drops it.
final class InProcessNodeMemory {
    let base: UnsafeMutablePointer<Float>?

    init(count: Int) {
        guard count > 0 else { base = nil; return }
        let pointer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        pointer.initialize(repeating: 0, count: count)
        base = pointer
    }

    deinit { base?.deallocate() }
}

/// Per-rank results, written by the rank threads and read after they are joined.
private final class ResultSlots<T> {
    private let lock = NSLock()
    private var slots: [T?]
    init(count: Int) { slots = Array(repeating: nil, count: count) }
    func store(_ value: T, at index: Int) { lock.lock(); slots[index] = value; lock.unlock() }
    func values() -> [T] { lock.lock(); defer { lock.unlock() }; return slots.map { $0! } }
}

/// Starts a joinable POSIX thread running `work`. Raw pthreads (rather than Foundation's Thread) so that
/// an aborting rank can end its own thread with pthread_exit and still be joined.
private func startThread(_ work: @escaping () -> Void) -> pthread_t {
    final class Box { let work: () -> Void; init(_ work: @escaping () -> Void) { self.work = work } }
    let context = Unmanaged.passRetained(Box(work)).toOpaque()
    var thread = pthread_t()
    let status = pthread_create(&thread, nil, { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        box.work()
        return nil
    }, context)
    precondition(status == 0, "pthread_create failed with \(status)")
    return thread
}
