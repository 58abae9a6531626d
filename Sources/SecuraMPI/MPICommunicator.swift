// The MPI Communicator: MPI_COMM_WORLD for collectives, a node communicator from
// MPI_Comm_split_type(SHARED) for localRank/localSize, and MPI_Get_processor_name as the host name.
// Errors are returned, not fatal (MPI_ERRORS_RETURN on both communicators); every return code is checked
// and turned into CommunicatorError.transport with MPI_Error_string's text. Collectives are posted
// non-blocking and completed under the watchdog's deadline (MPICommunicator+Watchdog.swift). Thread level FUNNELED:
// helper threads (OpenBLAS, compute pools) may exist, but only the thread that created this object may
// call MPI through it. Node-shared memory (MPI_Win_allocate_shared over the node communicator) and the
// node barrier are in MPICommunicator+NodeShared.swift.
import CMPI
import CScaLAPACK
import Foundation
import SecuraDistributed

/// The world of all ranks started by mpirun (or srun), over Open MPI.
///
/// Create at most one per process, before any other MPI use, and call `finalize()` once at the end on
/// every rank (a process that exits without it makes mpirun report an error). Collectives first agree on the buffer length (one small extra all-reduce), so a length
/// mismatch throws `CommunicatorError.lengthMismatch` on every rank instead of corrupting or hanging.
public final class MPICommunicator: Communicator {
    public let rank: Int
    public let size: Int
    public let localRank: Int
    public let localSize: Int
    public let hostName: String

    /// The world communicator (MPI_COMM_WORLD).
    let world: MPI_Comm
    /// The node communicator (MPI_Comm_split_type SHARED); nil after finalize.
    var node: MPI_Comm?
    /// Node-shared windows not yet freed, in allocation order (the same order on every rank of a node).
    var nodeWindows: [MPINodeWindow] = []
    /// Node-shared allocations made so far (labels windows in messages).
    var nodeAllocations = 0
    /// True when this object called MPI_Init_thread and so owns MPI_Finalize.
    private let ownsInitialization: Bool
    private var finalized = false
    /// Set by the distributed SVD when it has started the BLACS, so `finalize` can release them.
    var usedBLACS = false
    /// The thread that initialised MPI; under FUNNELED only it may call MPI.
    private let mpiThread = pthread_self()

    /// The watchdog's deadline rule (`--collective-timeout`, or derived from measured steps).
    public var timeout = CollectiveTimeout()
    /// World and node collectives entered so far (the watchdog's census compares them between ranks).
    var worldCollectives = 0
    var nodeCollectives = 0
    /// When this rank's last collective completed (monotonic seconds): the watchdog's compute gap.
    var lastCollectiveEnd = MPICommunicator.now()
    /// World ranks of this node's ranks, in local-rank order.
    var nodeMembers: [Int] = []
    /// Ends the job when a blocking section (ScaLAPACK, window allocation, finalize) outlives its deadline.
    let blockingWatchdog: BlockingWatchdog

    /// Whether collectives first check that every rank passed the same length (one extra all-reduce of
    /// three integers per call, microseconds). On by default; turn off only for a measured hot path.
    public var checksLengths = true

    /// Initialises MPI (MPI_Init_thread with MPI_THREAD_FUNNELED) unless it already is, and builds the
    /// world and node communicators.
    /// - Throws: `CommunicatorError.transport` if MPI cannot start, was already finalised, or offers
    ///   less than FUNNELED thread support.
    public init() throws {
        var flag: Int32 = 0
        try MPICommunicator.check(MPI_Finalized(&flag), "MPI_Finalized")
        if flag != 0 {
            throw CommunicatorError.transport(operation: "MPI_Init_thread", code: -1,
                                              message: "MPI was already finalised in this process")
        }
        try MPICommunicator.check(MPI_Initialized(&flag), "MPI_Initialized")
        var provided: Int32 = 0
        if flag == 0 {
            try MPICommunicator.check(MPI_Init_thread(nil, nil, cmpi_thread_funneled(), &provided),
                                      "MPI_Init_thread")
            ownsInitialization = true
        } else {
            try MPICommunicator.check(MPI_Query_thread(&provided), "MPI_Query_thread")
            ownsInitialization = false
        }
        guard provided >= cmpi_thread_funneled() else {
            throw CommunicatorError.transport(operation: "MPI_Init_thread", code: provided,
                                              message: "MPI provides thread level \(provided), FUNNELED needed")
        }

        world = cmpi_comm_world()
        try MPICommunicator.check(MPI_Comm_set_errhandler(world, cmpi_errors_return()), "MPI_Comm_set_errhandler")
        var value: Int32 = 0
        try MPICommunicator.check(MPI_Comm_rank(world, &value), "MPI_Comm_rank")
        rank = Int(value)
        try MPICommunicator.check(MPI_Comm_size(world, &value), "MPI_Comm_size")
        size = Int(value)

        var nodeComm: MPI_Comm? = cmpi_comm_null()
        try MPICommunicator.check(
            MPI_Comm_split_type(world, cmpi_comm_type_shared(), Int32(rank), cmpi_info_null(), &nodeComm),
            "MPI_Comm_split_type")
        node = nodeComm
        try MPICommunicator.check(MPI_Comm_set_errhandler(nodeComm, cmpi_errors_return()), "MPI_Comm_set_errhandler")
        try MPICommunicator.check(MPI_Comm_rank(nodeComm, &value), "MPI_Comm_rank(node)")
        localRank = Int(value)
        try MPICommunicator.check(MPI_Comm_size(nodeComm, &value), "MPI_Comm_size(node)")
        localSize = Int(value)

        var name = [CChar](repeating: 0, count: Int(cmpi_max_processor_name()) + 1)
        var length: Int32 = 0
        try MPICommunicator.check(MPI_Get_processor_name(&name, &length), "MPI_Get_processor_name")
        hostName = MPICommunicator.string(name, length: length)
        blockingWatchdog = BlockingWatchdog(prefix: "[rank \(rank) on \(hostName)]", world: world)
        nodeMembers = try MPICommunicator.worldRanks(of: nodeComm, world: world, count: localSize)
    }

    /// The world ranks of `comm`'s members 0..<count (MPI_Group_translate_ranks).
    private static func worldRanks(of comm: MPI_Comm?, world: MPI_Comm?, count: Int) throws -> [Int] {
        var group: MPI_Group? = nil, worldGroup: MPI_Group? = nil
        try check(MPI_Comm_group(comm, &group), "MPI_Comm_group")
        try check(MPI_Comm_group(world, &worldGroup), "MPI_Comm_group")
        defer { _ = MPI_Group_free(&group); _ = MPI_Group_free(&worldGroup) }
        var local = (0..<Int32(count)).map { $0 }
        var translated = [Int32](repeating: -1, count: count)
        try check(MPI_Group_translate_ranks(group, Int32(count), &local, worldGroup, &translated),
                  "MPI_Group_translate_ranks")
        return translated.map(Int.init)
    }

    /// The MPI library's version line (callable before MPI is initialised), e.g. "Open MPI v4.1.4, ...".
    public static var libraryVersion: String {
        var text = [CChar](repeating: 0, count: Int(cmpi_max_library_version_string()) + 1)
        var length: Int32 = 0
        guard MPI_Get_library_version(&text, &length) == cmpi_success() else { return "unknown" }
        let line = MPICommunicator.string(text, length: length)
        return (line.split(separator: "\n").first.map(String.init) ?? line).trimmingCharacters(in: .whitespaces)
    }

    // MARK: Collectives

    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try allReduce(buffer, type: cmpi_float(), op: cmpi_op_sum(), name: "MPI_Allreduce(SUM, FLOAT)")
    }

    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws {
        try allReduce(buffer, type: cmpi_double(), op: cmpi_op_sum(), name: "MPI_Allreduce(SUM, DOUBLE)")
    }

    public func allReduceMax(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try allReduce(buffer, type: cmpi_float(), op: cmpi_op_max(), name: "MPI_Allreduce(MAX, FLOAT)")
    }

    public func allReduceMin(_ buffer: UnsafeMutableBufferPointer<Float>) throws {
        try allReduce(buffer, type: cmpi_float(), op: cmpi_op_min(), name: "MPI_Allreduce(MIN, FLOAT)")
    }

    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        let name = "MPI_Bcast"
        guard (0..<size).contains(root) else {
            throw CommunicatorError.invalidRank(operation: name, rank: root, size: size)
        }
        try checkThread(name)
        try agreeOnLength(buffer.count, operation: name)
        guard let base = buffer.baseAddress else { return }
        for chunk in MPICommunicator.chunks(of: buffer.count) {
            enter(onNode: false)
            var request: MPI_Request? = cmpi_request_null()
            try MPICommunicator.check(
                MPI_Ibcast(base + chunk.lowerBound, Int32(chunk.count), cmpi_byte(), Int32(root), world, &request), name)
            try complete(&request, "\(name) of \(chunk.count) bytes from rank \(root)")
        }
    }

    public func barrier() throws {
        try checkThread("MPI_Barrier")
        enter(onNode: false)
        var request: MPI_Request? = cmpi_request_null()
        try MPICommunicator.check(MPI_Ibarrier(world, &request), "MPI_Barrier")
        try complete(&request, "MPI_Barrier")
    }

    /// Prints `message` (prefixed with the rank) to standard error and ends every rank with MPI_Abort.
    public func abort(code: Int32, message: String) -> Never {
        FileHandle.standardError.write(Data("[rank \(rank) on \(hostName)] \(message)\n".utf8))
        _ = MPI_Abort(world, code)
        exit(code)  // MPI_Abort does not return; this only satisfies the type system.
    }

    /// Frees the node-shared windows still allocated (in allocation order), the node communicator,
    /// releases the BLACS if used, and calls MPI_Finalize (only if this object initialised MPI). Collective: call it once on every rank, after the last collective, on the
    /// thread that created this object. Later calls do nothing. The protocol makes it non-throwing, so a
    /// failure (rare: the job is ending anyway) is reported on standard error with the rank.
    public func finalize() {
        do {
            try finalizeOrThrow()
        } catch {
            FileHandle.standardError.write(Data("[rank \(rank) on \(hostName)] finalize: \(error)\n".utf8))
        }
    }

    /// `finalize()`, throwing `CommunicatorError.transport` instead of printing.
    public func finalizeOrThrow() throws {
        guard !finalized else { return }
        try checkThread("MPI_Finalize")
        finalized = true
        try withBlockingDeadline("MPI_Finalize") {
            try releaseNodeWindows()
            if usedBLACS { Cblacs_exit(1) }  // 1: keep MPI running; it is finalised just below.
            if let nodeComm = node {
                var nodeComm: MPI_Comm? = nodeComm
                node = nil
                try MPICommunicator.check(MPI_Comm_free(&nodeComm), "MPI_Comm_free")
            }
            if ownsInitialization {
                try MPICommunicator.check(MPI_Finalize(), "MPI_Finalize")
            }
        }
    }

    // MARK: Helpers

    private func allReduce<T>(_ buffer: UnsafeMutableBufferPointer<T>, type: MPI_Datatype?, op: MPI_Op?,
                              name: String) throws {
        try checkThread(name)
        try agreeOnLength(buffer.count, operation: name)
        guard let base = buffer.baseAddress else { return }
        for chunk in MPICommunicator.chunks(of: buffer.count) {
            enter(onNode: false)
            var request: MPI_Request? = cmpi_request_null()
            // libnbc reduces an in-place all-reduce along a binomial tree, which sends the whole buffer
            // k + k(k+1)/2 times on its critical path, k = log2 p (results/scaling: 1.33 s for 30.7 MB on
            // 4 hosts at 1 Gbit/s). From a separate send buffer it chooses reduce-scatter + allgather for
            // 4 or more ranks and 64 KiB or more (0.48 s there), whose cost stays about 2 × the buffer at
            // any rank count.
            let bytes = chunk.count * MemoryLayout<T>.stride
            if size >= 4 && bytes >= MPICommunicator.separateSendBytes {
                let send = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
                defer { send.deallocate() }
                send.copyMemory(from: base + chunk.lowerBound, byteCount: bytes)
                try MPICommunicator.check(
                    MPI_Iallreduce(send, base + chunk.lowerBound, Int32(chunk.count), type, op, world, &request), name)
                try complete(&request, "\(name) of \(chunk.count) values")
                continue
            }
            try MPICommunicator.check(
                MPI_Iallreduce(cmpi_in_place(), base + chunk.lowerBound, Int32(chunk.count), type, op, world, &request),
                name)
            try complete(&request, "\(name) of \(chunk.count) values")
        }
    }

    /// Buffers from this size on are all-reduced from a separate send copy (see `allReduce`); libnbc's own
    /// threshold for leaving the binomial tree is 65,536 bytes.
    static let separateSendBytes = 65_536

    /// One MAX all-reduce of (n, −n, rank 0's n) so every rank learns whether all lengths agree; on a
    /// mismatch every rank throws the same error naming the lowest disagreeing rank. `onNode` runs it
    /// over the node communicator instead (ranks are then local ranks) and always, whatever
    /// `checksLengths` says.
    func agreeOnLength(_ count: Int, operation: String, onNode: Bool = false) throws {
        let (comm, me, members) = onNode ? (node, localRank, localSize) : (world, rank, size)
        guard onNode || checksLengths, members > 1 else { return }
        var values: [Int64] = [Int64(count), -Int64(count), me == 0 ? Int64(count) : Int64.min]
        try maxReduce(&values, comm: comm, onNode: onNode, "\(operation) length check")
        guard values[0] != -values[1] else { return }
        let expected = values[2]
        // Second round, only on the (collective) error path: find the lowest mismatching rank and its count.
        var culprit: [Int64] = [Int64(count) != expected ? -Int64(me) : Int64.min]
        try maxReduce(&culprit, comm: comm, onNode: onNode, "\(operation) length check")
        let culpritRank = Int(-culprit[0])
        var found: [Int64] = [me == culpritRank ? Int64(count) : Int64.min]
        try maxReduce(&found, comm: comm, onNode: onNode, "\(operation) length check")
        throw CommunicatorError.lengthMismatch(operation: operation, rank: culpritRank,
                                               expected: Int(expected), found: Int(found[0]))
    }

    /// In-place MAX all-reduce of a few integers over `comm` (world or node), under the watchdog.
    private func maxReduce(_ values: inout [Int64], comm: MPI_Comm?, onNode: Bool, _ operation: String) throws {
        enter(onNode: onNode)
        var request: MPI_Request? = cmpi_request_null()
        try MPICommunicator.check(
            MPI_Iallreduce(cmpi_in_place(), &values, Int32(values.count), cmpi_int64(), cmpi_op_max(), comm, &request),
            operation)
        try complete(&request, operation, onNode: onNode)
    }

    /// MPI_THREAD_FUNNELED: only the initialising thread may call MPI. (Beware async commands: a task
    /// may resume on another thread.)
    func checkThread(_ operation: String) throws {
        guard pthread_equal(mpiThread, pthread_self()) != 0 else {
            throw CommunicatorError.transport(
                operation: operation, code: -1,
                message: "called from a thread other than the one that initialised MPI (thread level FUNNELED)")
        }
    }

    /// MPI counts are 32-bit: split `count` elements into chunks of at most 2^30.
    static func chunks(of count: Int) -> [Range<Int>] {
        let limit = 1 << 30
        return stride(from: 0, to: count, by: limit).map { $0..<min($0 + limit, count) }
    }

    /// The text MPI wrote into `buffer`: `length` characters, stopping early at a NUL (Open MPI counts the
    /// terminating NUL in some lengths).
    static func string(_ buffer: [CChar], length: Int32) -> String {
        let bytes = buffer.prefix(Int(length)).prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Throws `CommunicatorError.transport` with MPI's own text unless `code` is MPI_SUCCESS.
    static func check(_ code: Int32, _ operation: String) throws {
        guard code != cmpi_success() else { return }
        var text = [CChar](repeating: 0, count: Int(cmpi_max_error_string()) + 1)
        var length: Int32 = 0
        let message: String
        if MPI_Error_string(code, &text, &length) == cmpi_success() {
            message = MPICommunicator.string(text, length: length)
        } else {
            message = "unknown MPI error"
        }
        throw CommunicatorError.transport(operation: operation, code: code, message: message)
    }
}
