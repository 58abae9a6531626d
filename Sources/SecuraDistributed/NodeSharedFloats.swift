// Node-shared fp32 memory: one buffer per node that every rank of the node reads and writes directly
// (docs/DESIGN.md §2.5: weights that change during training, such as the SECURA-M1 merge targets, live
// once per node). A `Communicator` hands these out from `allocateNodeShared(count:)`; this file holds
// the buffer object every implementation returns, the private-memory backing used when a node has one
// rank, and the row sharding that splits work on the buffer among the node's ranks.
//
// The rules a caller must follow (they are what MPI needs; the in-process world enforces them by
// throwing, MPI would hang or crash):
//  - Allocation is collective over the node: every rank of the node calls `allocateNodeShared` with the
//    same count, in the same order relative to its other node-shared allocations.
//  - `free()` is collective over the node too: either every rank of the node calls it (in the same
//    order for several buffers) or none does. A buffer that is simply dropped is NOT released by its
//    deinit (a deinit cannot run a collective safely); its memory stays reserved until the
//    communicator's `finalize()`, which releases every remaining buffer collectively. Do not touch
//    `buffer` after `free()` or `finalize()`.
//  - Writes by one rank are visible to the others only after a `nodeBarrier()` that both have passed
//    (write, nodeBarrier, read). Ranks must not write the same elements concurrently; the usual pattern
//    is: each rank writes its `nodeShard(rows:panel:)`, then `nodeBarrier()`, then all read everything.
//    Before overwriting elements that other ranks may still read, pass another `nodeBarrier()`.
//    Stores made by a rank's helper threads (BLAS, a compute pool) count once those threads have
//    finished and the rank has waited for them, before the rank calls `nodeBarrier()`.
//  - Prefer one big allocation sliced per matrix (`slice(_:)`) to one allocation per matrix: under MPI
//    every allocation is a window with its own shared-memory file and is synced at each nodeBarrier.

/// Releases the memory behind a `NodeSharedFloats`; supplied by each `Communicator` implementation.
public protocol NodeSharedStorage: AnyObject {
    /// Releases the buffer; collective over the node (every rank of the node calls it, or none does).
    func free() throws
}

/// `count` fp32 elements shared by every rank of a node: all ranks of the node see the same memory.
///
/// Obtain one from `Communicator.allocateNodeShared(count:)`; read the file header of
/// NodeSharedFloats.swift for the collective rules (allocation and `free()` on every rank of the node,
/// `nodeBarrier()` between a write and another rank's read).
public final class NodeSharedFloats {
    /// Number of fp32 elements.
    public let count: Int
    /// The node-local rank whose memory holds the buffer (0 for every implementation here).
    public let ownerLocalRank: Int
    /// True on the rank that holds the buffer's memory (its page owner), false on the others.
    public let isOwner: Bool
    /// True once `free()` has run (or the communicator released the buffer at `finalize()`).
    public private(set) var isFreed = false

    private let base: UnsafeMutablePointer<Float>?
    private let storage: NodeSharedStorage

    /// Wraps memory that a communicator allocated. `base` may be nil only when `count` is 0.
    public init(count: Int, base: UnsafeMutablePointer<Float>?, ownerLocalRank: Int, isOwner: Bool,
                storage: NodeSharedStorage) {
        precondition(count >= 0 && (base != nil || count == 0), "node-shared buffer without memory")
        self.count = count
        self.base = base
        self.ownerLocalRank = ownerLocalRank
        self.isOwner = isOwner
        self.storage = storage
    }

    /// The whole node-shared buffer (`count` elements, the same memory on every rank of the node).
    /// Valid until `free()` or the communicator's `finalize()`.
    public var buffer: UnsafeMutableBufferPointer<Float> {
        precondition(!isFreed, "node-shared buffer used after free()")
        return UnsafeMutableBufferPointer(start: base, count: count)
    }

    /// The elements `range` of the buffer (for a rank's shard or one matrix inside a big buffer).
    public func slice(_ range: Range<Int>) -> UnsafeMutableBufferPointer<Float> {
        precondition(range.lowerBound >= 0 && range.upperBound <= count, "slice \(range) outside 0..<\(count)")
        return UnsafeMutableBufferPointer(rebasing: buffer[range])
    }

    /// Releases the buffer on this rank. Collective over the node: every rank of the node must call it
    /// (for several buffers, in the same order), or none. A second call does nothing.
    /// - Throws: `CommunicatorError` from the implementation (e.g. MPI_Win_free's error).
    public func free() throws {
        guard !isFreed else { return }
        isFreed = true
        try storage.free()
    }

    /// Marks the buffer released without a collective; for a communicator that has released the memory
    /// itself (MPI's `finalize()`).
    public func markReleased() {
        isFreed = true
    }

    /// A zero-filled private allocation: node-shared memory when the node has exactly one rank (the
    /// single-process communicator, or any world with one rank per node).
    public static func privateAllocation(count: Int) -> NodeSharedFloats {
        precondition(count >= 0, "negative node-shared count \(count)")
        let memory = PrivateFloats(count: count)
        return NodeSharedFloats(count: count, base: memory.base, ownerLocalRank: 0, isOwner: true, storage: memory)
    }
}

/// Heap memory for a one-rank node; freed by `free()` or, since nothing is collective here, by deinit.
private final class PrivateFloats: NodeSharedStorage {
    private(set) var base: UnsafeMutablePointer<Float>?

    init(count: Int) {
        guard count > 0 else { return }
        let pointer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        pointer.initialize(repeating: 0, count: count)
        base = pointer
    }

    func free() throws {
        base?.deallocate()
        base = nil
    }

    deinit { base?.deallocate() }
}

/// Splitting rows among the ranks of a node in whole panels.
public enum NodeShard {
    /// The contiguous rows of part `part` when `rows` rows are cut into panels of `panel` rows (the last
    /// panel may be shorter) and the panels are dealt out contiguously to `parts` parts, balanced to
    /// within one panel.
    ///
    /// Part p gets panels ⌊p·P/parts⌋ ..< ⌊(p+1)·P/parts⌋ with P = ⌈rows/panel⌉, so the parts cover
    /// 0..<rows exactly once, in order, each a whole number of panels; parts may be empty when there
    /// are fewer panels than parts. Pure arithmetic: the same answer wherever it is computed.
    public static func rows(_ rows: Int, panel: Int, part: Int, of parts: Int) -> Range<Int> {
        precondition(rows >= 0 && panel >= 1 && parts >= 1 && (0..<parts).contains(part),
                     "bad shard request: rows \(rows), panel \(panel), part \(part) of \(parts)")
        let panels = rows / panel + (rows % panel == 0 ? 0 : 1)
        let first = part * panels / parts
        let end = (part + 1) * panels / parts
        return min(first * panel, rows)..<min(end * panel, rows)
    }
}

extension Communicator {
    /// This rank's rows of a node-shared matrix with `rows` rows: `NodeShard.rows(rows, panel: panel,
    /// part: localRank, of: localSize)`. The node's ranks get disjoint contiguous ranges of whole
    /// `panel`-row panels that together cover 0..<rows; every caller computes the same split, and the
    /// same `rows` and `panel` always give the same answer for a given local rank.
    public func nodeShard(rows: Int, panel: Int = 1) -> Range<Int> {
        NodeShard.rows(rows, panel: panel, part: localRank, of: localSize)
    }
}
