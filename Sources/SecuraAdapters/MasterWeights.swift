// The fp32 master copies of the weights that merges change (SECURA-M1's merge targets). They live in
// ONE node-shared allocation (docs/DESIGN.md §2.5): every rank of a node reads the same memory, each
// rank writes only its row shard during a merge, and a node barrier makes the writes visible. With one
// rank per node the allocation is ordinary private memory.
import SecuraDistributed
import SecuraModel
import SecuraTensor

/// One merge target: an h×d fp32 matrix inside the node-shared block.
public struct MasterWeight {
    /// First element of the row-major [rows, columns] matrix (node-shared memory).
    public let pointer: UnsafeMutablePointer<Float>
    public let rows: Int, columns: Int
    /// Keeps the node-shared block alive as long as a view of it exists.
    public let owner: AnyObject

    public var count: Int { rows * columns }

    /// A copy of the values (rank-local).
    public func toArray() -> [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    /// The matrix as an fp32 weight view named `name` (what the decoder reads).
    public func view(name: String) -> WeightView {
        WeightView(name: name, dtype: .f32, shape: [rows, columns], data: UnsafeRawPointer(pointer), owner: owner)
    }
}

/// Rows per panel of every merge and copy into the master block. Shards are whole panels, so each row is
/// computed by the same product shapes whichever rank owns it (which keeps merges bit-identical for
/// any rank count).
public let masterPanelRows = 64

/// Allocates the master copies for `sites` (in the given order) in one node-shared block and fills them
/// from the original weights: each rank of the node copies its row shard, then a node barrier.
/// Collective over the node.
func makeMasters(_ sites: [(site: LinearSite, original: WeightView)], comm: Communicator) throws -> [LinearSite: MasterWeight] {
    let total = sites.reduce(0) { $0 + $1.original.count }
    let block = try comm.allocateNodeShared(count: total)
    var masters: [LinearSite: MasterWeight] = [:]
    var offset = 0
    for (site, original) in sites {
        let rows = original.shape[0], columns = original.count / rows
        let base = block.buffer.baseAddress! + offset
        let shard = comm.nodeShard(rows: rows, panel: masterPanelRows)
        if !shard.isEmpty {
            original.widen(start: shard.lowerBound * columns, count: shard.count * columns, into: base + shard.lowerBound * columns)
        }
        masters[site] = MasterWeight(pointer: base, rows: rows, columns: columns, owner: block)
        offset += original.count
    }
    try comm.nodeBarrier()
    return masters
}
