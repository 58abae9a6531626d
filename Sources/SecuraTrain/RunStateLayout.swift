// Everything a run persists, as ONE named list (llm.c's few named buffers, extended to the whole run):
// the trainable values, AdamW's two moments, the method's own persisted tensors (I-LoRA's EMA copy,
// SECURA-M2's long-term pairs), all replicated on every rank, and the node-shared merge masters, of which
// each rank handles its `nodeShard` of whole `masterPanelRows` panels. Checkpoint save and restore, the
// cross-rank checksum (--check-every) and the resume tests each walk this list once, so a tensor a
// method adds is saved, restored, checked and compared without touching any of them.
import SecuraAdapters
import SecuraDistributed
import SecuraTensor

public struct RunStateLayout {
    public enum Kind: Sendable, Equatable {
        /// The flat trainable buffer ("param/<name>").
        case trainable
        /// AdamW's first and second moments ("adam_m/<name>", "adam_v/<name>"), in checkpoints only.
        case adamFirstMoment, adamSecondMoment
        /// A method's persisted tensor outside the flat buffer ("long/<name>").
        case method
        /// A node-shared fp32 merge master ("master/<weight name>", [rows, columns]).
        case master
    }

    /// One persisted fp32 tensor and where it lives in memory.
    public struct Entry {
        /// Its name in the state files (prefix included).
        public let name: String
        public let shape: [Int]
        public let kind: Kind
        public let pointer: UnsafeMutablePointer<Float>
        /// Keeps the storage alive.
        public let owner: AnyObject

        public var count: Int { shape.reduce(1, *) }
        /// Node-shared (one copy per node, written and read by row shards) rather than whole on every rank.
        public var isNodeShared: Bool { kind == .master }
        /// A copy of the values (rank-local).
        public func toArray() -> [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
    }

    public let entries: [Entry]

    /// The layout of `adapters` (with AdamW's moments when `optimizer` is given).
    public init(_ adapters: AdapterSet, optimizer: AdamW?) {
        var entries: [Entry] = []
        let p = adapters.parameters
        for e in p.layout.entries {
            entries.append(Entry(name: "param/" + e.name, shape: e.shape, kind: .trainable,
                                 pointer: p.values.storage.pointer + e.offset, owner: p))
        }
        if let optimizer {
            for e in p.layout.entries {
                entries.append(Entry(name: "adam_m/" + e.name, shape: e.shape, kind: .adamFirstMoment,
                                     pointer: optimizer.m.pointer + e.offset, owner: optimizer))
                entries.append(Entry(name: "adam_v/" + e.name, shape: e.shape, kind: .adamSecondMoment,
                                     pointer: optimizer.v.pointer + e.offset, owner: optimizer))
            }
        }
        let methodTensors = (adapters.methodState?.persistentTensors ?? [])
            + adapters.sites.keys.sorted().flatMap { adapters.sites[$0]!.persistentTensors }
        for t in methodTensors {
            entries.append(Entry(name: t.name, shape: t.shape, kind: .method, pointer: t.pointer, owner: t.owner))
        }
        for site in adapters.masters.keys.sorted() {
            let m = adapters.masters[site]!
            entries.append(Entry(name: "master/" + site.weightName, shape: [m.rows, m.columns], kind: .master,
                                 pointer: m.pointer, owner: m.owner))
        }
        self.entries = entries
    }

    /// The entries every rank holds whole (state.safetensors).
    public var replicated: [Entry] { entries.filter { !$0.isNodeShared } }
    /// The node-shared entries (master-row files).
    public var nodeShared: [Entry] { entries.filter(\.isNodeShared) }

    /// The rows of node-shared `entry` that this rank writes, merges and restores.
    public static func shard(_ entry: Entry, comm: Communicator) -> Range<Int> {
        comm.nodeShard(rows: entry.shape[0], panel: masterPanelRows)
    }

    /// A position-weighted Double checksum of every entry (equal on every rank of a consistent run).
    public func checksum() -> Double {
        var total = 0.0
        for e in entries {
            var s = 0.0
            for i in 0..<e.count { s += Double(e.pointer[i]) * Double(1 + i % 7) }
            total = total * 1.000_001 + s
        }
        return total
    }
}
