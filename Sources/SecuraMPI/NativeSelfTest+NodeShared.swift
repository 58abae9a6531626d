// The doctor's node-shared memory check: allocates one buffer per node, has every rank write its shard
// and read the whole buffer back after a node barrier (three rounds: the zero fill, own shards, then
// each rank writing its neighbour's shard, so every rank reads data written by every other rank), and
// measures whether the node holds one copy. The measurement is the proportional set size (PSS), which
// divides each shared page among the processes mapping it: summed over a node's ranks it grows by the
// buffer size once if the memory is shared and by ranks × size if it were not. RSS is reported too, but
// it counts shared pages in every rank that touches them, so it grows by the full size on every rank.
import Foundation
import SecuraDistributed

extension NativeSelfTest {
    /// What `nodeSharedCheck` measured, gathered on every rank.
    public struct NodeSharedReport: Codable {
        /// How the memory was obtained: MPI_Win_allocate_shared, or private memory (one-rank node).
        public var method: String
        /// Elements (fp32) and bytes of the buffer.
        public var elements: Int
        public var bytes: Int
        /// Host names of the nodes, and how many ranks each has.
        public var hosts: [String]
        public var ranksPerNode: [Int]
        /// How many ranks of each node report holding the memory (1 when it exists once per node).
        public var ownersPerNode: [Int]
        /// Elements that did not read back as written, summed over every rank and round.
        public var mismatches: Int
        /// RSS growth of each rank, in bytes (nil where /proc is unavailable).
        public var rssGrowthPerRank: [Int]?
        /// PSS growth summed over each node's ranks, in bytes (nil where smaps_rollup is unavailable).
        public var pssGrowthPerNode: [Int]?
        /// Peak resident set (VmHWM) of each rank at the end of the check, in bytes.
        public var peakResidentPerRank: [Int]?
        /// The `doctor --shm` lifecycle verdicts (nil when not run).
        public var lifecycle: [NodeSharedLifecycleResult]?

        /// PSS growth of each node divided by the buffer size: about 1 when the buffer exists once.
        public var copiesPerNode: [Double]? {
            pssGrowthPerNode.map { $0.map { Double($0) / Double(max(bytes, 1)) } }
        }
        public var readBackOK: Bool { mismatches == 0 }
        public var oneOwnerPerNode: Bool { ownersPerNode.allSatisfy { $0 == 1 } }
        /// Below 1.5 copies on every node (true when PSS cannot be measured).
        public var oneCopyPerNode: Bool { copiesPerNode?.allSatisfy { $0 < 1.5 } ?? true }
        public var ok: Bool {
            readBackOK && oneOwnerPerNode && oneCopyPerNode && (lifecycle ?? []).allSatisfy(\.ok)
        }

        /// The doctor's lines for this check, ending with "node-shared memory: ok" or "… FAILED".
        public var textLines: [String] {
            func mib(_ value: Int) -> String { String(format: "%.1f MiB", Double(value) / 1_048_576) }
            func verdict(_ ok: Bool) -> String { ok ? "ok" : "FAILED" }
            var lines = ["  node-shared memory (\(method)): \(mib(bytes)) per node on \(hosts.count) "
                + "node\(hosts.count == 1 ? "" : "s"), held by local rank 0"]
            for (index, host) in hosts.enumerated() {
                lines.append("    \(host): \(ranksPerNode[index]) rank\(ranksPerNode[index] == 1 ? "" : "s"), "
                    + "\(ownersPerNode[index]) holding the memory")
            }
            lines.append("    shards written, nodeBarrier, whole buffer read back by every rank (3 rounds): "
                + "\(mismatches) mismatches  \(verdict(readBackOK && oneOwnerPerNode))")
            if let rss = rssGrowthPerRank {
                lines.append("    RSS growth per rank: \(rss.map(mib).joined(separator: ", ")) "
                    + "(shared pages count in every rank that touches them)")
            }
            if let pss = pssGrowthPerNode, let copies = copiesPerNode {
                let perNode = zip(pss, copies).map { "\(mib($0)) = \(String(format: "%.2f", $1)) copies" }
                lines.append("    PSS growth summed over each node's ranks: \(perNode.joined(separator: ", "))  "
                    + verdict(oneCopyPerNode))
            } else {
                lines.append("    PSS not available (/proc/self/smaps_rollup): copies per node not measured")
            }
            if let peak = peakResidentPerRank {
                lines.append("    peak RSS (VmHWM) per rank: \(peak.map(mib).joined(separator: ", "))")
            }
            for result in lifecycle ?? [] { lines.append("    \(result.name)  \(verdict(result.ok))") }
            lines.append("  node-shared memory: \(verdict(ok))")
            return lines
        }
    }

    /// Checks node-shared memory on every rank; collective over the world and each node.
    /// - Parameter megabytes: buffer size in MiB (the larger, the clearer the PSS measurement).
    /// - Throws: `CommunicatorError` from the allocation or the collectives.
    public static func nodeSharedCheck(communicator comm: Communicator, megabytes: Int = 16) throws -> NodeSharedReport {
        let count = max(1, megabytes) * 1_048_576 / MemoryLayout<Float>.stride
        let parts = (0..<comm.localSize).map { NodeShard.rows(count, panel: 1024, part: $0, of: comm.localSize) }
        try comm.nodeBarrier()
        let rssBefore = ProcessMemory.residentBytes()
        let pssBefore = ProcessMemory.proportionalSetBytes()

        let shared = try comm.allocateNodeShared(count: count)
        let buffer = shared.buffer
        var mismatches = 0
        // Round 0: the zero fill. Round 1: each rank writes its own shard. Round 2: its neighbour's.
        for round in 0..<3 {
            let writerOf: (Int) -> Int = { part in (part + comm.localSize - (round == 2 ? 1 : 0)) % comm.localSize }
            if round > 0 {
                let part = (comm.localRank + (round == 2 ? 1 : 0)) % comm.localSize
                for i in parts[part] { buffer[i] = pattern(index: i, round: round, writer: comm.localRank) }
                try comm.nodeBarrier()
            }
            for (part, rows) in parts.enumerated() {
                let writer = writerOf(part)
                for i in rows where buffer[i].bitPattern != (round == 0 ? 0 : pattern(index: i, round: round,
                                                                                     writer: writer).bitPattern) {
                    mismatches += 1
                }
            }
            try comm.nodeBarrier()  // every rank has read before anyone overwrites
        }
        let rssAfter = ProcessMemory.residentBytes()
        let pssAfter = ProcessMemory.proportionalSetBytes()
        try comm.nodeBarrier()  // every rank has measured before the memory goes
        let isOwner = shared.isOwner
        try shared.free()

        var totals = [Double(mismatches)]
        try comm.allReduceSum(&totals)
        let hostOfRank = try comm.allGather(string: comm.hostName)
        let owners = try comm.allGather(value: isOwner ? 1 : 0)
        let rssGrowth = try gatherGrowth(comm, before: rssBefore, after: rssAfter)
        let pssGrowth = try gatherGrowth(comm, before: pssBefore, after: pssAfter)
        var hosts: [String] = []
        for host in hostOfRank where !hosts.contains(host) { hosts.append(host) }
        func perNode(_ values: [Int]) -> [Int] {
            hosts.map { host in zip(hostOfRank, values).filter { $0.0 == host }.map(\.1).reduce(0, +) }
        }
        let peak = try gatherGrowth(comm, before: 0, after: ProcessMemory.peakResidentBytes())
        let method = comm is MPICommunicator ? "MPI_Win_allocate_shared" : "private memory, one rank per node"
        return NodeSharedReport(method: method, elements: count, bytes: count * MemoryLayout<Float>.stride, hosts: hosts,
                                ranksPerNode: perNode(Array(repeating: 1, count: comm.size)),
                                ownersPerNode: perNode(owners), mismatches: Int(totals[0]),
                                rssGrowthPerRank: rssGrowth, pssGrowthPerNode: pssGrowth.map(perNode),
                                peakResidentPerRank: peak)
    }

    /// Every rank's `after − before` in rank order, or nil if any rank could not measure.
    private static func gatherGrowth(_ comm: Communicator, before: Int?, after: Int?) throws -> [Int]? {
        var growth: Int?
        if let before, let after { growth = after - before }
        let available = try comm.allGather(value: growth == nil ? 0 : 1)
        let values = try comm.allGather(value: growth ?? 0)
        return available.allSatisfy { $0 == 1 } ? values : nil
    }

    /// The value `writer` stores at `index` in `round`: a hash whose bit pattern is never zero, infinite
    /// or NaN (bit 30 clear keeps the exponent below all ones), compared by bit pattern.
    static func pattern(index: Int, round: Int, writer: Int) -> Float {
        let mixed = (UInt64(index) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(round &* 64 &+ writer) &* 0xC2B2_AE3D_27D4_EB4F)
        let bits = UInt32(truncatingIfNeeded: mixed >> 32) & ~(UInt32(1) << 30) | 1
        return Float(bitPattern: bits)
    }
}
