// The C and R pieces shared by CUR-LoRA and CABR-LoRA/SECURA: the r columns and the r rows of a weight
// with the smallest L2 norms, copied once from the ORIGINAL weight and never changed afterwards.
import SecuraTensor

public enum CURSelection {
    /// L2 norm of every row of w [H, D] (accumulated in Double).
    public static func rowNorms(_ w: WeightView) -> [Double] {
        let h = w.shape[0], d = w.shape[1]
        var row = [Float](repeating: 0, count: d)
        return (0..<h).map { i in
            row.withUnsafeMutableBufferPointer { w.widen(start: i * d, count: d, into: $0.baseAddress!) }
            return row.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        }
    }

    /// L2 norm of every column of w [H, D].
    public static func columnNorms(_ w: WeightView) -> [Double] {
        let h = w.shape[0], d = w.shape[1]
        var sums = [Double](repeating: 0, count: d)
        var row = [Float](repeating: 0, count: d)
        for i in 0..<h {
            row.withUnsafeMutableBufferPointer { w.widen(start: i * d, count: d, into: $0.baseAddress!) }
            for j in 0..<d { sums[j] += Double(row[j]) * Double(row[j]) }
        }
        return sums.map { $0.squareRoot() }
    }

    /// Indices of the `count` smallest norms (ties broken by the lower index), in ascending index order.
    public static func smallest(_ norms: [Double], count: Int) -> [Int] {
        let order = norms.indices.sorted { norms[$0] < norms[$1] || (norms[$0] == norms[$1] && $0 < $1) }
        return Array(order.prefix(count)).sorted()
    }

    /// C [H, r]: the columns `indices` of w, in that order.
    public static func columns(_ w: WeightView, _ indices: [Int]) -> [Float] {
        let h = w.shape[0], d = w.shape[1], r = indices.count
        var out = [Float](repeating: 0, count: h * r)
        var row = [Float](repeating: 0, count: d)
        for i in 0..<h {
            row.withUnsafeMutableBufferPointer { w.widen(start: i * d, count: d, into: $0.baseAddress!) }
            for (k, j) in indices.enumerated() { out[i * r + k] = row[j] }
        }
        return out
    }

    /// R [r, D]: the rows `indices` of w, in that order.
    public static func rows(_ w: WeightView, _ indices: [Int]) -> [Float] {
        let d = w.shape[1]
        var out = [Float](repeating: 0, count: indices.count * d)
        out.withUnsafeMutableBufferPointer { o in
            for (k, i) in indices.enumerated() { w.widen(start: i * d, count: d, into: o.baseAddress! + k * d) }
        }
        return out
    }
}
