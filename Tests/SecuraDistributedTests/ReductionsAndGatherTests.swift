// allReduceMin (native in-process and the protocol's default through a negated max), one-number
// gathers, the protocol defaults for node-shared memory, and the process memory figures from /proc.
import Foundation
import SecuraDistributed
import XCTest

/// A communicator that forwards the required collectives and so uses the protocol's defaults for
/// allReduceMin, allocateNodeShared and nodeBarrier.
private final class ForwardingCommunicator: Communicator {
    let inner: Communicator
    init(_ inner: Communicator) { self.inner = inner }
    var rank: Int { inner.rank }
    var size: Int { inner.size }
    var localRank: Int { inner.localRank }
    var localSize: Int { inner.localSize }
    var hostName: String { inner.hostName }
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>) throws { try inner.allReduceSum(buffer) }
    func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Double>) throws { try inner.allReduceSum(buffer) }
    func allReduceMax(_ buffer: UnsafeMutableBufferPointer<Float>) throws { try inner.allReduceMax(buffer) }
    func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws { try inner.broadcast(buffer, root: root) }
    func barrier() throws { try inner.barrier() }
    func abort(code: Int32, message: String) -> Never { inner.abort(code: code, message: message) }
}

final class ReductionsAndGatherTests: XCTestCase {
    func testAllReduceMinNativeAndDefault() throws {
        for wrap in [false, true] {
            let results = try InProcessWorld.run(ranks: 4) { inner -> [Float] in
                let comm: Communicator = wrap ? ForwardingCommunicator(inner) : inner
                var values: [Float] = [Float(comm.rank), -Float(comm.rank), 5 + Float(comm.rank), -0.5]
                try comm.allReduceMin(&values)
                return values
            }
            for values in results { XCTAssertEqual(values, [0, -3, 5, -0.5], "default: \(wrap)") }
        }
        let nan = try InProcessWorld.run(ranks: 3) { comm -> Float in
            var values: [Float] = [comm.rank == 1 ? .nan : 1]
            try comm.allReduceMin(&values)
            return values[0]
        }
        XCTAssertTrue(nan.allSatisfy(\.isNaN), "a NaN on any rank reaches every rank")
    }

    func testDefaultNodeSharedMemory() throws {
        // One rank per node: private memory works. Several: the default refuses rather than pretending.
        let outcomes = try InProcessWorld.run(ranks: 2, ranksPerNode: 1) { inner -> Bool in
            let comm = ForwardingCommunicator(inner)
            let shared = try comm.allocateNodeShared(count: 5)
            try comm.nodeBarrier()
            defer { try? shared.free() }
            return shared.buffer.allSatisfy { $0 == 0 } && shared.count == 5
        }
        XCTAssertEqual(outcomes, [true, true])
        let refused = try InProcessWorld.run(ranks: 2) { inner -> Bool in
            do {
                _ = try ForwardingCommunicator(inner).allocateNodeShared(count: 5)
                return false
            } catch CommunicatorError.transport {
                return true
            }
        }
        XCTAssertEqual(refused, [true, true])
    }

    func testGatherOneNumberPerRank() throws {
        let results = try InProcessWorld.run(ranks: 3) { comm -> ([Double], [Int], [Int]?, [Double]?) in
            let all = try comm.allGather(value: Double(comm.rank) + 0.25)
            let ints = try comm.allGather(value: 1 << (40 + comm.rank))
            let atRoot = try comm.gather(value: comm.rank * 7, root: 0)
            let atTwo = try comm.gather(value: -Double(comm.rank), root: 2)
            return (all, ints, atRoot, atTwo)
        }
        for (rank, result) in results.enumerated() {
            XCTAssertEqual(result.0, [0.25, 1.25, 2.25])
            XCTAssertEqual(result.1, [1 << 40, 1 << 41, 1 << 42])
            XCTAssertEqual(result.2, rank == 0 ? [0, 7, 14] : nil)
            XCTAssertEqual(result.3, rank == 2 ? [0, -1, -2] : nil)
        }
        XCTAssertThrowsError(try SingleProcessCommunicator().gather(value: 1.0, root: 1))
    }

    func testProcessMemoryParsing() {
        let status = "Name:\tx\nVmHWM:\t  2048 kB\nVmRSS:\t1024 kB\nBad:\tmany kB\n"
        XCTAssertEqual(ProcessMemory.kilobytes(field: "VmHWM", in: status), 2048 * 1024)
        XCTAssertEqual(ProcessMemory.kilobytes(field: "VmRSS", in: status), 1024 * 1024)
        XCTAssertNil(ProcessMemory.kilobytes(field: "VmPeak", in: status))
        XCTAssertNil(ProcessMemory.kilobytes(field: "Bad", in: status))
    }

    func testPeakResidentGrowsWithTouchedMemory() throws {
        #if os(Linux)
        let resident = try XCTUnwrap(ProcessMemory.residentBytes())
        let before = try XCTUnwrap(ProcessMemory.peakResidentBytes())  // read second: the peak covers it
        XCTAssertGreaterThanOrEqual(before, resident)
        XCTAssertNotNil(ProcessMemory.proportionalSetBytes())
        // Touch 64 MiB more than the peak so far could hold; the high-water mark must follow.
        let extra = before + (64 << 20)
        let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: extra)
        defer { pointer.deallocate() }
        pointer.initialize(repeating: 1, count: extra)
        let after = try XCTUnwrap(ProcessMemory.peakResidentBytes())
        XCTAssertGreaterThanOrEqual(after, before + (64 << 20), "VmHWM \(before) → \(after)")
        #endif
    }
}
