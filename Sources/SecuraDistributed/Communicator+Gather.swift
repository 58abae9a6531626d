// All-gather built from the protocol's own collectives (one sum-reduce of the lengths, then one
// broadcast per rank), so it works on every Communicator without widening the protocol. It is meant for
// small or infrequent exchanges (host maps, checksums, the SVD's assembled factors), not the gradient
// path: it costs `size` broadcasts.

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
}
