// Softmax cross-entropy over the vocabulary for selected rows (targets < 0 are ignored).
import Foundation
import SecuraTensor

public enum CrossEntropy {
    /// losses[n] = −log softmax(logits[n])[targets[n]], or 0 where targets[n] < 0.
    /// - Parameters: logits [N, V]; targets [N] in −1..<V.
    /// - Returns: the number of scored rows.
    @discardableResult
    public static func forward(losses: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
                               targets: UnsafePointer<Int32>, rows n: Int, vocab v: Int) -> Int {
        Parallel.forRanges(n, minChunk: 1) { range in
            for r in range {
                let t = Int(targets[r])
                guard t >= 0 else { losses[r] = 0; continue }
                let row = logits + r * v
                let (mx, sum) = maxAndSum(row, v)
                losses[r] = Float(log(sum)) + mx - row[t]
            }
        }
        var scored = 0
        for r in 0..<n where targets[r] >= 0 { scored += 1 }
        return scored
    }

    /// dLogits[n] = weight[n] · (softmax(logits[n]) − onehot(targets[n])); zero rows where targets < 0.
    /// `weight` is the loss's derivative with respect to each row's loss (e.g. 1 / scored rows).
    public static func backward(dLogits: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>,
                                targets: UnsafePointer<Int32>, weight: Float, rows n: Int, vocab v: Int) {
        Parallel.forRanges(n, minChunk: 1) { range in
            for r in range {
                let t = Int(targets[r])
                let out = dLogits + r * v
                guard t >= 0 else { out.update(repeating: 0, count: v); continue }
                // exp(x − max) is kept in `out` while summed (the same sum as the forward's), then scaled.
                let (_, sum) = maxAndSum(logits + r * v, v, keeping: out)
                let inv = Float(1 / sum) * weight
                VectorMath.forEachVector(0..<v) { j, lanes in
                    VectorMath.store(VectorMath.load(out + j, count: lanes) * inv, out + j, count: lanes)
                }
                out[t] -= weight
            }
        }
    }

    /// Row maximum and Σ exp(x − max), optionally keeping every exp(x − max) in `kept`. Sixteen lanes
    /// summed in Float over blocks of 256 values, each block's total added in Double, so a long vocabulary
    /// loses no precision to the running sum.
    @inline(__always)
    static func maxAndSum(_ row: UnsafePointer<Float>, _ v: Int, keeping kept: UnsafeMutablePointer<Float>? = nil)
        -> (Float, Double) {
        var mx = -Float.infinity
        for j in 0..<v { mx = max(mx, row[j]) }
        var sum: Double = 0
        var block = 0
        while block < v {
            let end = min(v, block + 256)
            var lanes = VectorMath.Vector()
            VectorMath.forEachVector(block..<end) { j, count in
                let e = VectorMath.exp(VectorMath.load(row + j, count: count, fill: -.infinity) - mx)
                if let kept { VectorMath.store(e, kept + j, count: count) }
                lanes += e
            }
            sum += Double(lanes.sum())
            block = end
        }
        return (mx, sum)
    }
}
