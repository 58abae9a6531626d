// The extra node-shared checks behind `secura-dist doctor --shm`: the paths a training run relies on
// besides plain reads and writes. A count that differs between a node's ranks must throw on every rank
// (not hang); buffers may be freed explicitly in any order the ranks agree on, or left for finalize();
// a zero-length buffer works; allReduceMin and gather give the expected values; the process memory
// figures are readable. Each check yields a named verdict that is the same on every rank.
import Foundation
import SecuraDistributed

extension NativeSelfTest {
    /// One named lifecycle verdict, agreed by every rank (a check passes only if it passed everywhere).
    public struct NodeSharedLifecycleResult: Codable {
        public var name: String
        public var ok: Bool
    }

    /// Runs the lifecycle checks; collective over the world and each node. Leaves two buffers allocated
    /// and unreferenced on purpose, so that `finalize()` has windows to release.
    public static func nodeSharedLifecycleCheck(communicator comm: Communicator) throws -> [NodeSharedLifecycleResult] {
        var results: [(String, Bool)] = []

        // 1. Different counts on the node's ranks: every rank must get lengthMismatch, none may hang.
        if comm.localSize > 1 {
            var threw = false
            do {
                let odd = try comm.allocateNodeShared(count: comm.localRank == 0 ? 100 : 101)
                try odd.free()
            } catch CommunicatorError.lengthMismatch {
                threw = true
            }
            results.append(("different counts on one node throw lengthMismatch on every rank", threw))
        }

        // 2. Three buffers; the middle one is empty. Ranks write shards of the last, read all of it back.
        let dropped = try comm.allocateNodeShared(count: 1000)
        let empty = try comm.allocateNodeShared(count: 0)
        let third = try comm.allocateNodeShared(count: 5000)
        let rows = 5000 / 10
        for row in comm.nodeShard(rows: rows, panel: 7) {
            for column in 0..<10 { third.buffer[row * 10 + column] = Float(comm.localRank + 1) }
        }
        try comm.nodeBarrier()
        var readBack = true
        for part in 0..<comm.localSize {
            let shard = NodeShard.rows(rows, panel: 7, part: part, of: comm.localSize)
            for i in shard.lowerBound * 10 ..< shard.upperBound * 10 where third.buffer[i] != Float(part + 1) {
                readBack = false
            }
        }
        results.append(("shards of whole 7-row panels written and read back", readBack))
        results.append(("zero-length buffer", empty.count == 0 && empty.buffer.isEmpty))
        let owners = try comm.allGather(value: dropped.isOwner ? 1 : 0)
        results.append(("one owner per node", owners.reduce(0, +) == Set(try comm.allGather(string: comm.hostName)).count))

        // 3. Free the last buffer explicitly (not in allocation order); the others stay for finalize().
        try comm.nodeBarrier()
        try third.free()
        try third.free()  // a second free does nothing
        results.append(("explicit free (twice)", third.isFreed && !dropped.isFreed))
        if let mpi = comm as? MPICommunicator {
            results.append(("\(mpi.nodeWindows.count) windows left for finalize()", mpi.nodeWindows.count == 2))
        }
        // `dropped` and `empty` go out of scope without free(): their windows wait for finalize().

        // 4. allReduceMin and gather.
        var minimum: [Float] = [Float(comm.rank), -Float(comm.rank), 5]
        try comm.allReduceMin(&minimum)
        results.append(("allReduceMin", minimum == [0, -Float(comm.size - 1), 5]))
        let gathered = try comm.gather(value: comm.rank * 10 + 1, root: 0)
        results.append(("gather to rank 0",
                        comm.isRoot ? gathered == (0..<comm.size).map { $0 * 10 + 1 } : gathered == nil))
        let current = ProcessMemory.residentBytes() ?? 0
        let peak = ProcessMemory.peakResidentBytes() ?? 0  // read second, so it covers `current`
        results.append(("peak resident set (VmHWM) readable and ≥ RSS", peak > 0 && peak >= current))

        // Agree: a check passes only if it passed on every rank.
        var failures = results.map { $0.1 ? 0.0 : 1.0 }
        try comm.allReduceSum(&failures)
        return zip(results, failures).map { NodeSharedLifecycleResult(name: $0.0, ok: $1 == 0) }
    }
}
