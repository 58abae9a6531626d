// Node-shared memory over MPI: one MPI_Win_allocate_shared window per allocation on the node
// communicator, with the whole buffer on local rank 0 and zero bytes on the others, so each node holds
// exactly one copy; every rank gets rank 0's base address from MPI_Win_shared_query and reads and
// writes it with plain loads and stores.
//
// Memory ordering. Shared windows use MPI's unified memory model (checked at allocation: with the
// separate model plain loads and stores would not be allowed). Each window is kept in one passive-target
// epoch for its whole life (MPI_Win_lock_all with MPI_MODE_NOCHECK right after allocation,
// MPI_Win_unlock_all just before MPI_Win_free), which is what makes MPI_Win_sync legal. `nodeBarrier()`
// is then the standard pattern: MPI_Win_sync on every live window (a memory barrier: this rank's
// stores are complete), MPI_Barrier on the node communicator (everyone's stores are complete), and
// MPI_Win_sync again (this rank's later loads see them). So a store made before a nodeBarrier is
// visible to every rank of the node after it; concurrent stores to the same element are not allowed.
//
// Lifetime. MPI_Win_free is collective over the node, and a deinit runs at a different moment on every
// rank, so deinit never frees: `NodeSharedFloats.free()` (called by every rank of the node, in the same
// order) frees one window, and `finalize()` frees whatever is left, in allocation order, which is the
// same on every rank of a node as long as the free() rule was kept.
//
// Space. Open MPI backs each window with a file in its osc_sm_backing_directory (/dev/shm by default;
// Docker gives containers only 64 MiB there). When the file does not fit, MPI_Win_allocate_shared fails
// on local rank 0 alone with "internal error" while the other ranks may wait forever, so local rank 0
// first checks the free space and the node agrees on the verdict: every rank throws one clear error.
import CMPI
import Foundation
import SecuraDistributed

extension MPICommunicator {
    /// Allocates `count` zero-filled fp32 elements once per node (MPI_Win_allocate_shared: `count`·4
    /// bytes on local rank 0, none elsewhere). Collective over the node communicator; see
    /// NodeSharedFloats.swift for the caller's rules.
    /// - Throws: `CommunicatorError.lengthMismatch` (local ranks) if the node's ranks disagree on
    ///   `count`; `CommunicatorError.transport` if MPI fails (e.g. too little space in
    ///   osc_sm_backing_directory, /dev/shm by default), if the window is not unified, or after finalize.
    public func allocateNodeShared(count: Int) throws -> NodeSharedFloats {
        precondition(count >= 0, "negative node-shared count \(count)")
        let name = "MPI_Win_allocate_shared"
        try checkThread(name)
        guard let node else { throw afterFinalize(name) }
        try agreeOnLength(count, operation: name, onNode: true)
        let bytes = count * MemoryLayout<Float>.stride
        try checkBackingSpace(bytes: bytes, node: node)
        var base: UnsafeMutableRawPointer?
        var window: MPI_Win? = cmpi_win_null()
        try withBlockingDeadline("\(name) of \(bytes) bytes") {
            try MPICommunicator.check(
                MPI_Win_allocate_shared(MPI_Aint(localRank == 0 ? bytes : 0), Int32(MemoryLayout<Float>.stride),
                                        cmpi_info_null(), node, &base, &window),
                "\(name) of \(bytes) bytes")
        }
        nodeAllocations += 1
        // Registered at once, so finalize() frees it even if a check below throws.
        let entry = MPINodeWindow(window: window, id: nodeAllocations, communicator: self)
        nodeWindows.append(entry)
        try MPICommunicator.check(MPI_Win_set_errhandler(window, cmpi_errors_return()), "MPI_Win_set_errhandler")
        var model: Int32 = -1
        try MPICommunicator.check(cmpi_win_memory_model(window, &model), "MPI_Win_get_attr(MPI_WIN_MODEL)")
        guard model == cmpi_win_unified() else {
            throw CommunicatorError.transport(operation: name, code: model,
                                              message: "shared window is not in the unified memory model")
        }
        try MPICommunicator.check(MPI_Win_lock_all(cmpi_mode_nocheck(), window), "MPI_Win_lock_all")
        entry.locked = true

        var ownerBytes: MPI_Aint = 0
        var unit: Int32 = 0
        var ownerBase: UnsafeMutableRawPointer?
        try MPICommunicator.check(MPI_Win_shared_query(window, 0, &ownerBytes, &unit, &ownerBase),
                                  "MPI_Win_shared_query")
        guard Int(ownerBytes) == bytes, bytes == 0 || ownerBase != nil else {
            throw CommunicatorError.transport(operation: "MPI_Win_shared_query", code: -1,
                                              message: "local rank 0 holds \(ownerBytes) bytes, \(bytes) expected")
        }
        let floats = bytes == 0 ? nil : ownerBase!.bindMemory(to: Float.self, capacity: count)
        // MPI does not promise zeroed memory. Each rank zeroes its own shard (first touch spreads the
        // pages' initial faults over the ranks), then the node barrier publishes the zeros.
        if let floats {
            let shard = nodeShard(rows: count, panel: 1024)
            (floats + shard.lowerBound).update(repeating: 0, count: shard.count)
        }
        try nodeBarrier()
        let shared = NodeSharedFloats(count: count, base: floats, ownerLocalRank: 0, isOwner: localRank == 0,
                                      storage: entry)
        entry.buffer = shared
        return shared
    }

    /// MPI_Win_sync on every node-shared window, MPI_Barrier on the node communicator, MPI_Win_sync
    /// again: every node-shared store made before it by any rank of the node is visible after it.
    public func nodeBarrier() throws {
        let name = "MPI_Barrier(node)"
        try checkThread(name)
        guard let node else { throw afterFinalize(name) }
        try syncWindows()
        enter(onNode: true)
        var request: MPI_Request? = cmpi_request_null()
        try MPICommunicator.check(MPI_Ibarrier(node, &request), name)
        try complete(&request, name, onNode: true)
        try syncWindows()
    }

    /// Throws on every rank of the node if local rank 0 finds less than `bytes` free in the directory
    /// Open MPI puts window files in (OMPI_MCA_osc_sm_backing_directory, which mpirun's --mca sets, or
    /// /dev/shm). Skipped when the directory cannot be examined.
    private func checkBackingSpace(bytes: Int, node: MPI_Comm) throws {
        let directory = ProcessInfo.processInfo.environment["OMPI_MCA_osc_sm_backing_directory"] ?? "/dev/shm"
        var free: Int64 = -1
        if localRank == 0, bytes > 0 {
            var stats = statvfs()
            if statvfs(directory, &stats) == 0 { free = Int64(stats.f_bavail) * Int64(stats.f_frsize) }
        }
        enter(onNode: true)
        var request: MPI_Request? = cmpi_request_null()
        try MPICommunicator.check(MPI_Ibcast(&free, 1, cmpi_int64(), 0, node, &request), "MPI_Bcast(node, free space)")
        try complete(&request, "MPI_Bcast(node, free space)", onNode: true)
        guard free >= 0, free < Int64(bytes) else { return }
        func mib(_ value: Int64) -> String { String(format: "%.1f MiB", Double(value) / 1_048_576) }
        throw CommunicatorError.transport(
            operation: "MPI_Win_allocate_shared", code: -1,
            message: "node-shared memory needs \(mib(Int64(bytes))) in \(directory) on \(hostName), only "
                + "\(mib(free)) free; enlarge it (docker run --shm-size) or point Open MPI elsewhere "
                + "(mpirun --mca osc_sm_backing_directory /tmp)")
    }

    private func syncWindows() throws {
        for entry in nodeWindows where entry.locked {
            try MPICommunicator.check(MPI_Win_sync(entry.window), "MPI_Win_sync")
        }
    }

    /// Frees one window (unlock_all, MPI_Win_free) and forgets it. Collective over the node.
    func releaseNodeWindow(_ entry: MPINodeWindow) throws {
        try checkThread("MPI_Win_free")
        guard let index = nodeWindows.firstIndex(where: { $0 === entry }) else { return }
        nodeWindows.remove(at: index)
        try withBlockingDeadline("MPI_Win_free (node-shared #\(entry.id))") { try entry.release() }
    }

    /// Frees every remaining window in allocation order (from finalize) and marks their buffers released.
    func releaseNodeWindows() throws {
        let remaining = nodeWindows
        nodeWindows = []
        var firstError: Error?
        for entry in remaining {
            entry.buffer?.markReleased()
            do { try entry.release() } catch { firstError = firstError ?? error }
        }
        if let firstError { throw firstError }
    }

    private func afterFinalize(_ operation: String) -> CommunicatorError {
        .transport(operation: operation, code: -1, message: "called after finalize()")
    }
}

/// One node-shared window: the MPI handle, its epoch state and the buffer object handed out for it.
/// Held by the communicator until freed, so dropping the buffer never loses the handle.
final class MPINodeWindow: NodeSharedStorage {
    private(set) var window: MPI_Win?
    /// Allocation number, for messages.
    let id: Int
    /// True between MPI_Win_lock_all and MPI_Win_unlock_all.
    var locked = false
    /// The buffer object handed out (weak: the caller owns it), so finalize can mark it released.
    weak var buffer: NodeSharedFloats?
    private weak var communicator: MPICommunicator?

    init(window: MPI_Win?, id: Int, communicator: MPICommunicator) {
        self.window = window
        self.id = id
        self.communicator = communicator
    }

    /// `NodeSharedFloats.free()`: collective over the node.
    func free() throws {
        try communicator?.releaseNodeWindow(self)
    }

    /// Ends the epoch and frees the window (MPI_Win_free is collective over the node). Runs once.
    func release() throws {
        guard window != nil else { return }
        if locked {
            locked = false
            try MPICommunicator.check(MPI_Win_unlock_all(window), "MPI_Win_unlock_all (node-shared #\(id))")
        }
        try MPICommunicator.check(MPI_Win_free(&window), "MPI_Win_free (node-shared #\(id))")
        window = nil
    }
}
