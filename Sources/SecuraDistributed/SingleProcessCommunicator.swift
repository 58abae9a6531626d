// The one-rank communicator: every collective is the identity. Used when secura-dist is not under mpirun.
// Node-shared memory is plain private memory (the node has one rank) and the node barrier does nothing.
import Foundation

/// A world of exactly one rank.
public final class SingleProcessCommunicator: Communicator {
    public let rank = 0
    public let size = 1
    public let localRank = 0
    public let localSize = 1
    public let hostName: String

    public init() {
        hostName = ProcessInfo.processInfo.hostName
    }

    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {}
    public func allReduceMax(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}
    public func allReduceMin(_ buffer: UnsafeMutableBufferPointer<Float>) throws {}

    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        guard root == 0 else { throw CommunicatorError.invalidRank(operation: "broadcast", rank: root, size: 1) }
    }

    public func barrier() throws {}

    /// Zero-filled private memory; `free()` releases it, and so does dropping it.
    public func allocateNodeShared(count: Int) throws -> NodeSharedFloats {
        NodeSharedFloats.privateAllocation(count: count)
    }

    public func nodeBarrier() throws {}

    public func abort(code: Int32, message: String) -> Never {
        FileHandle.standardError.write(Data((message + "\n").utf8))
        exit(code)
    }
}
