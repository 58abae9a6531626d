// One rank's view of an in-process world (see InProcessWorld.swift): the Communicator used by unit tests
// in place of MPI. Reductions are computed by every rank from all ranks' inputs in rank order
// 0, 1, …, N−1 with the same code, so every rank gets bit-identical results whatever the thread timing.
// Buffers are only read between the two barrier phases and only written after the second, so in-place
// reductions never race with a peer still reading its input. Node collectives (node-shared allocation
// and free, nodeBarrier) meet only the ranks of the caller's simulated node; node-shared memory is one
// heap buffer per node and allocation, and the world's lock gives the ordering a nodeBarrier promises.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A rank of an `InProcessWorld`. Obtain one from `InProcessWorld.run(ranks:_:)`.
///
/// Semantics match the MPI communicator: every rank must call the same collectives in the same order
/// with buffers of the same length; a mismatch throws `CommunicatorError` on every rank (rather than
/// hanging as MPI might). `abort(code:message:)` does not end the test process: it records the abort,
/// makes every other rank's pending and later collectives throw, and ends only the calling rank's thread
/// (`pthread_exit`), after which `InProcessWorld.run` throws `InProcessWorldError.aborted`. Called from a
/// thread that is not the rank's own, it falls back to ending the process like a real abort.
public final class InProcessCommunicator: Communicator {
    public let rank: Int
    public var size: Int { world.size }
    public var localRank: Int { rank % world.ranksPerNode }
    public var localSize: Int {
        let node = rank / world.ranksPerNode
        return min(world.ranksPerNode, world.size - node * world.ranksPerNode)
    }
    public var hostName: String { "node\(rank / world.ranksPerNode)" }

    private let world: InProcessWorld
    /// Node-shared allocations made so far by this rank (its node's ranks count in step).
    private var nodeAllocations = 0
    private var node: Int { rank / world.ranksPerNode }

    init(world: InProcessWorld, rank: Int) {
        self.world = world
        self.rank = rank
    }

    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try reduce(buffer, operation: "allReduceSum(Float)") { $0 + $1 }
    }

    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {
        try reduce(buffer, operation: "allReduceSum(Double)") { $0 + $1 }
    }

    public func allReduceMax(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        // NaN wins (and stays), so a NaN on any rank is visible on every rank.
        try reduce(buffer, operation: "allReduceMax(Float)") { current, next in
            (next > current || next.isNaN) && !current.isNaN ? next : current
        }
    }

    public func allReduceMin(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        // NaN wins, as in allReduceMax.
        try reduce(buffer, operation: "allReduceMin(Float)") { current, next in
            (next < current || next.isNaN) && !current.isNaN ? next : current
        }
    }

    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        let operation = "broadcast"
        let mine = InProcessWorld.Deposit(operation: operation, count: buffer.count, root: root,
                                          pointer: buffer.baseAddress)
        let deposits = try world.arrive(rank: rank, operation: operation, deposit: mine)
        var problem = validate(deposits, operation: operation)
        if problem == nil, !(0..<size).contains(root) {
            problem = CommunicatorError.invalidRank(operation: operation, rank: root, size: size)
        }
        if problem == nil, rank != root, buffer.count > 0, let source = deposits[root].pointer {
            buffer.baseAddress!.copyMemory(from: source, byteCount: buffer.count)
        }
        // The root's buffer must stay untouched until every rank has copied it.
        _ = try world.arrive(rank: rank, operation: operation, deposit: nil)
        if let problem { throw problem }
    }

    public func barrier() throws {
        let operation = "barrier"
        let deposits = try world.arrive(rank: rank, operation: operation,
                                        deposit: .init(operation: operation, count: 0, root: -1, pointer: nil))
        let problem = validate(deposits, operation: operation)
        _ = try world.arrive(rank: rank, operation: operation, deposit: nil)
        if let problem { throw problem }
    }

    /// One zero-filled buffer per simulated node: the node's ranks get the same memory, other nodes
    /// their own. Throws on every rank of the node if their counts differ.
    public func allocateNodeShared(count: Int) throws -> NodeSharedFloats {
        precondition(count >= 0, "negative node-shared count \(count)")
        try nodeCollective(operation: "allocateNodeShared", count: count)
        nodeAllocations += 1
        let memory = world.nodeMemory(node: node, sequence: nodeAllocations, count: count)
        return NodeSharedFloats(count: count, base: memory.base, ownerLocalRank: 0, isOwner: localRank == 0,
                                storage: InProcessNodeShare(memory: memory, communicator: self,
                                                            sequence: nodeAllocations))
    }

    public func nodeBarrier() throws {
        try nodeCollective(operation: "nodeBarrier", count: 0)
    }

    /// A rendezvous of this node's ranks (deposit, validate, release) that throws on every rank of the
    /// node if they called different operations or passed different counts.
    func nodeCollective(operation: String, count: Int) throws {
        let deposit = InProcessWorld.Deposit(operation: operation, count: count, root: -1, pointer: nil)
        let deposits = try world.arrive(rank: rank, group: .node(node), operation: operation, deposit: deposit)
        let problem = validate(deposits, operation: operation)
        _ = try world.arrive(rank: rank, group: .node(node), operation: operation, deposit: nil)
        if let problem { throw problem }
    }

    public func abort(code: Int32, message: String) -> Never {
        FileHandle.standardError.write(Data("[in-process rank \(rank)] \(message)\n".utf8))
        world.fail(.aborted(rank: rank, code: code, message: message))
        if world.isOwnThread(rank: rank) { pthread_exit(nil) }
        exit(code)
    }

    // MARK: Helpers

    /// Element-wise reduction in rank order; every rank computes the same result from the same inputs.
    private func reduce<T>(_ buffer: UnsafeMutableBufferPointer<T>, operation: String,
                           _ combine: (T, T) -> T) throws {
        let mine = InProcessWorld.Deposit(operation: operation, count: buffer.count, root: -1,
                                          pointer: buffer.baseAddress.map { UnsafeMutableRawPointer($0) })
        let deposits = try world.arrive(rank: rank, operation: operation, deposit: mine)
        let problem = validate(deposits, operation: operation)
        var result: [T] = []
        if problem == nil, buffer.count > 0 {
            let inputs = deposits.map { UnsafePointer($0.pointer!.assumingMemoryBound(to: T.self)) }
            result = Array(UnsafeBufferPointer(start: inputs[0], count: buffer.count))
            for source in inputs.dropFirst() {
                for i in 0..<result.count { result[i] = combine(result[i], source[i]) }
            }
        }
        // Write only after every rank has finished reading the inputs.
        _ = try world.arrive(rank: rank, operation: operation, deposit: nil)
        if let problem { throw problem }
        for i in 0..<result.count { buffer[i] = result[i] }
    }

    /// The same verdict on every rank: all ranks must be in the same collective with the same length
    /// and root. (For node collectives the indices, and so the ranks named, are local ranks.)
    private func validate(_ deposits: [InProcessWorld.Deposit], operation: String) -> Error? {
        let first = deposits[0]
        for (other, deposit) in deposits.enumerated() {
            if deposit.operation != first.operation {
                return CommunicatorError.transport(
                    operation: operation, code: -1,
                    message: "rank \(other) called \(deposit.operation) while rank 0 called \(first.operation)")
            }
            if deposit.count != first.count {
                return CommunicatorError.lengthMismatch(operation: deposit.operation, rank: other,
                                                        expected: first.count, found: deposit.count)
            }
            if deposit.root != first.root {
                return CommunicatorError.transport(
                    operation: operation, code: -1,
                    message: "rank \(other) passed root \(deposit.root), rank 0 passed root \(first.root)")
            }
        }
        return nil
    }
}

/// One rank's hold on an in-process node buffer; `free()` is a node rendezvous naming the allocation,
/// so ranks that free different buffers (or only some ranks freeing) throw instead of passing.
private final class InProcessNodeShare: NodeSharedStorage {
    private var memory: InProcessNodeMemory?
    private weak var communicator: InProcessCommunicator?
    private let sequence: Int

    init(memory: InProcessNodeMemory, communicator: InProcessCommunicator, sequence: Int) {
        self.memory = memory
        self.communicator = communicator
        self.sequence = sequence
    }

    func free() throws {
        defer { memory = nil }
        try communicator?.nodeCollective(operation: "free(node-shared #\(sequence))", count: 0)
    }
}
