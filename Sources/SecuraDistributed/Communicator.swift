// The Communicator protocol: the thin collective-communication surface that training code uses.
// Three implementations exist: a single process (here), an in-process multi-rank one for unit tests,
// and MPI (in SecuraMPI, the only module that imports the MPI shim). Besides the world collectives it
// offers node-shared memory (one buffer per node, NodeSharedFloats.swift) and a node-local barrier.
import SecuraErrors

/// Errors raised by collective operations.
public enum CommunicatorError: CategorizedError, CustomStringConvertible {
    /// A collective was called with buffers of different lengths on different ranks.
    case lengthMismatch(operation: String, rank: Int, expected: Int, found: Int)
    /// The underlying transport reported a failure.
    case transport(operation: String, code: Int32, message: String)
    /// A root or peer rank outside 0..<size.
    case invalidRank(operation: String, rank: Int, size: Int)
    /// A rank's report (an encoded value sent to every rank) cannot be decoded.
    case undecodable(operation: String, rank: Int, reason: String)

    /// A failing transport may succeed when the job is retried (requeued); the rest are bugs: ranks
    /// that disagree on lengths or name a rank that does not exist.
    public var category: ErrorCategory {
        switch self {
        case .transport: return .unavailable
        case .lengthMismatch, .invalidRank, .undecodable: return .internal
        }
    }

    public var description: String {
        switch self {
        case let .lengthMismatch(op, rank, expected, found):
            return "\(op): rank \(rank) passed \(found) elements, rank 0 passed \(expected)"
        case let .transport(op, code, message):
            return "\(op) failed (code \(code)): \(message)"
        case let .invalidRank(op, rank, size):
            return "\(op): rank \(rank) is outside 0..<\(size)"
        case let .undecodable(op, rank, reason):
            return "\(op): the report of rank \(rank) cannot be decoded: \(reason)"
        }
    }
}

/// Collective operations over a fixed group of ranks.
///
/// Every rank must call the same collectives in the same order with buffers of the same length.
/// Reductions are in place. Implementations must give every rank bit-identical results.
public protocol Communicator: AnyObject {
    /// This process's rank in the world group, 0..<size.
    var rank: Int { get }
    /// Number of ranks in the world group.
    var size: Int { get }
    /// Rank among the ranks sharing this node (shared-memory domain).
    var localRank: Int { get }
    /// Number of ranks on this node.
    var localSize: Int { get }
    /// Host name of this rank's node.
    var hostName: String { get }

    /// Element-wise sum over all ranks, in place; every rank receives the result.
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws
    /// Element-wise sum over all ranks in double precision, in place.
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws
    /// Element-wise maximum over all ranks, in place.
    func allReduceMax(_ buffer: UnsafeMutableBufferPointer<Float>) throws
    /// Element-wise minimum over all ranks, in place. (Default: a max-reduction of the negated values,
    /// which is exact.)
    func allReduceMin(_ buffer: UnsafeMutableBufferPointer<Float>) throws
    /// Copies `root`'s bytes into every other rank's buffer.
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws
    /// Blocks until every rank has reached the barrier.
    func barrier() throws

    /// Allocates `count` zero-initialised fp32 elements shared by every rank of this node.
    ///
    /// Collective over the node: every rank of the node calls it with the same `count`, in the same
    /// order as its other node-shared allocations. Every rank of the node gets the same memory; ranks on
    /// other nodes get their own node's copy. Writes become visible to the node's other ranks after a
    /// `nodeBarrier()`; `free()` is collective too (see NodeSharedFloats.swift for the rules).
    /// (Default: private memory when the node has one rank, otherwise an error.)
    /// - Throws: `CommunicatorError.lengthMismatch` if the node's ranks passed different counts,
    ///   `CommunicatorError.transport` if the memory cannot be allocated.
    func allocateNodeShared(count: Int) throws -> NodeSharedFloats
    /// Blocks until every rank of this node has reached it, and makes every node-shared write made
    /// before it visible to the node's ranks after it. (Default: `barrier()`, a world barrier, which
    /// is at least as strong; every rank of the world must then call it.)
    func nodeBarrier() throws
    /// Ends the whole job (every rank) after printing `message` to standard error.
    func abort(code: Int32, message: String) -> Never
    /// Releases the transport at the end of a successful run (MPI_Finalize); a no-op elsewhere.
    func finalize()
    /// Tells the transport that optimizer step `step` ended after `seconds` of work, so a collective
    /// watchdog can derive its deadline from measured steps (CollectiveTimeout.swift) and name the step
    /// in its message. (Default: nothing; the in-process communicators need no watchdog.)
    func stepCompleted(_ step: Int, seconds: Double)
}

extension Communicator {
    public func finalize() {}

    public func stepCompleted(_ step: Int, seconds: Double) {}

    public func allReduceMin(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        // min(x) = −max(−x) exactly: negation only flips the sign bit.
        for i in buffer.indices { buffer[i] = -buffer[i] }
        defer { for i in buffer.indices { buffer[i] = -buffer[i] } }
        try allReduceMax(buffer)
    }

    public func allocateNodeShared(count: Int) throws -> NodeSharedFloats {
        guard localSize == 1 else {
            throw CommunicatorError.transport(
                operation: "allocateNodeShared", code: -1,
                message: "\(type(of: self)) has no node-shared memory for \(localSize) ranks per node")
        }
        return NodeSharedFloats.privateAllocation(count: count)
    }

    public func nodeBarrier() throws {
        try barrier()
    }

    /// True on the rank that prints, writes metrics and checkpoints.
    public var isRoot: Bool { rank == 0 }

    /// Sum-reduces an array of floats in place.
    public func allReduceSum(_ values: inout [Float]) throws {
        try values.withUnsafeMutableBufferPointer { try allReduceSum($0) }
    }

    /// Sum-reduces an array of doubles in place.
    public func allReduceSum(_ values: inout [Double]) throws {
        try values.withUnsafeMutableBufferPointer { try allReduceSum($0) }
    }

    /// Max-reduces an array of floats in place.
    public func allReduceMax(_ values: inout [Float]) throws {
        try values.withUnsafeMutableBufferPointer { try allReduceMax($0) }
    }

    /// Min-reduces an array of floats in place.
    public func allReduceMin(_ values: inout [Float]) throws {
        try values.withUnsafeMutableBufferPointer { try allReduceMin($0) }
    }

    /// Broadcasts an array of trivially copyable values from `root`; lengths must already agree.
    public func broadcast<T>(_ values: inout [T], root: Int) throws {
        try values.withUnsafeMutableBytes { try broadcast($0, root: root) }
    }
}
