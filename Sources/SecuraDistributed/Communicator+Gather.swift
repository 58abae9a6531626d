// All-gather built from the protocol's own collectives (one sum-reduce of the lengths, then one
// broadcast per rank), so it works on every Communicator without widening the protocol. It is meant for
// small or infrequent exchanges (host maps, checksums, the SVD's assembled factors), not the gradient
// path: it costs `size` broadcasts. Single numbers (a loss, a memory peak) go cheaper: one sum-reduce
// of a vector with one slot per rank.

extension Communicator {
    /// Gathers every rank's bytes onto every rank, in rank order. Lengths may differ between ranks.
    ///
    /// - Returns: `size` arrays; element `r` is rank `r`'s `bytes`. Bit-identical on every rank.
    /// - Throws: `CommunicatorError` from the underlying collectives.
    public func allGather(bytes: [UInt8]) throws -> [[UInt8]] {
        // Each slot has exactly one non-zero contribution, so the double sum is exact below 2^53.
        var lengths = [Double](repeating: 0, count: size)
        lengths[rank] = Double(bytes.count)
        try allReduceSum(&lengths)
        var gathered: [[UInt8]] = []
        gathered.reserveCapacity(size)
        for root in 0..<size {
            var buffer = root == rank ? bytes : [UInt8](repeating: 0, count: Int(lengths[root]))
            if !buffer.isEmpty { try broadcast(&buffer, root: root) }
            gathered.append(buffer)
        }
        return gathered
    }

    /// Gathers every rank's string (UTF-8) onto every rank, in rank order.
    public func allGather(string: String) throws -> [String] {
        try allGather(bytes: Array(string.utf8)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Gathers every rank's floats onto every rank, in rank order; lengths may differ between ranks.
    public func allGather(floats: [Float]) throws -> [[Float]] {
        let bytes = floats.withUnsafeBytes { Array($0) }
        return try allGather(bytes: bytes).map { chunk in
            var values = [Float](repeating: 0, count: chunk.count / MemoryLayout<Float>.stride)
            values.withUnsafeMutableBytes { $0.copyBytes(from: chunk) }
            return values
        }
    }

    /// Gathers one number per rank onto every rank with a single sum-reduce (each rank fills only its own
    /// slot, so the result is exact: x + 0 = x).
    ///
    /// - Returns: `size` values in rank order, bit-identical on every rank (except that −0 reads as +0).
    public func allGather(value: Double) throws -> [Double] {
        var slots = [Double](repeating: 0, count: size)
        slots[rank] = value
        try allReduceSum(&slots)
        return slots
    }

    /// Gathers one integer per rank onto every rank (exact for |value| < 2^53, e.g. byte counts).
    public func allGather(value: Int) throws -> [Int] {
        try allGather(value: Double(value)).map { Int($0) }
    }

    /// Gathers one number per rank onto `root`: rank order on `root`, nil on the other ranks.
    /// Collective over every rank (built on `allGather(value:)`).
    public func gather(value: Double, root: Int = 0) throws -> [Double]? {
        guard (0..<size).contains(root) else {
            throw CommunicatorError.invalidRank(operation: "gather", rank: root, size: size)
        }
        let values = try allGather(value: value)
        return rank == root ? values : nil
    }

    /// Gathers one integer per rank onto `root` (exact for |value| < 2^53); nil on the other ranks.
    public func gather(value: Int, root: Int = 0) throws -> [Int]? {
        try gather(value: Double(value), root: root).map { $0.map { Int($0) } }
    }
}
