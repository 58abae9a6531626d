// `secura-dist bench --allreduce N,...`: the time of the gradient all-reduce alone, for buffers of N Doubles
// (the trainer's gradient accumulator is Double), through the same communicator call the trainer makes
// (MPI_Iallreduce completed under the watchdog). Every iteration starts after a barrier, and its time is the
// slowest rank's, so it is the collective's time and not one rank's share of it. Used by
// launch/bench-network.sh to fit a latency–bandwidth model of the all-reduce.
import ArgumentParser
import Foundation
import SecuraDistributed

struct AllReduceReport: Encodable {
    struct Size: Encodable {
        let values: Int, bytes: Int
        /// Per iteration, the slowest rank's seconds; then their minimum, median and maximum.
        let seconds: [Double]
        let seconds_min: Double, seconds_median: Double, seconds_max: Double
        /// 2(p−1)/p × bytes / median seconds: what each rank's link carries in a ring all-reduce.
        let bus_gbit_per_second: Double
    }
    let ranks: Int, nodes: Int, hosts: [String]
    let iterations: Int, warmup: Int
    let sizes: [Size]
}

extension Bench {
    /// Parses "1000,3840000" into value counts.
    static func allReduceSizes(_ text: String) throws -> [Int] {
        let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let sizes = parts.compactMap { Int($0) }
        guard !parts.isEmpty, sizes.count == parts.count, sizes.allSatisfy({ $0 >= 1 && $0 <= 1 << 31 }) else {
            throw ValidationError("--allreduce \(text): expected comma-separated value counts, each 1...\(1 << 31)")
        }
        return sizes
    }

    func runAllReduce(sizes: [Int], comm: Communicator) throws {
        let say = RootPrinter(comm: comm)
        let hosts = try comm.allGather(string: comm.hostName)
        say("all-reduce of Doubles over \(comm.size) rank(s) on \(Set(hosts).count) host(s), "
            + "\(warmup) warm-up + \(iterations) timed iteration(s) per size")
        var results: [AllReduceReport.Size] = []
        for count in sizes {
            var buffer = [Double](repeating: 0, count: count)
            var times: [Double] = []
            for i in 0..<(warmup + iterations) {
                // Fresh values each time (a constant buffer could be special-cased by nobody, but sums grow).
                for j in stride(from: 0, to: count, by: 4096) { buffer[j] = Double(comm.rank + i) }
                try comm.barrier()
                let start = DispatchTime.now().uptimeNanoseconds
                try buffer.withUnsafeMutableBufferPointer { try comm.allReduceSum($0) }
                let mine = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                let slowest = try comm.allGather(value: mine).max() ?? mine
                if i >= warmup { times.append(slowest) }
            }
            let sorted = times.sorted()
            let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2]
                                                : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
            let bytes = count * MemoryLayout<Double>.stride
            let p = Double(comm.size)
            let bus = p > 1 ? 2 * (p - 1) / p * Double(bytes) * 8 / median / 1e9 : 0
            results.append(.init(values: count, bytes: bytes, seconds: times, seconds_min: sorted.first ?? 0,
                                 seconds_median: median, seconds_max: sorted.last ?? 0, bus_gbit_per_second: bus))
            if !json {
                say(String(format: "%11d values (%8.2f MB): median %9.3f ms  min %9.3f ms  max %9.3f ms  bus %6.2f Gbit/s",
                           count, Double(bytes) / 1e6, median * 1e3, (sorted.first ?? 0) * 1e3,
                           (sorted.last ?? 0) * 1e3, bus))
            }
        }
        if json {
            say(try jsonLine(AllReduceReport(ranks: comm.size, nodes: Set(hosts).count, hosts: hosts,
                                             iterations: iterations, warmup: warmup, sizes: results)))
        }
    }
}
