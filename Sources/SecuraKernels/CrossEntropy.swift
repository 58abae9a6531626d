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
                let row = logits + r * v
                // One exp per logit: exp(x − max) is kept in `out` while summed (the same sum, in the same
                // order, as `maxAndSum`), then scaled.
                var mx = -Float.infinity
                for j in 0..<v { mx = max(mx, row[j]) }
                var sum: Double = 0
                for j in 0..<v {
                    let e = expf(row[j] - mx)
                    out[j] = e
                    sum += Double(e)
                }
                let inv = Float(1 / sum) * weight
                for j in 0..<v { out[j] *= inv }
                out[t] -= weight
            }
        }
    }

    /// Row maximum and Σ exp(x − max), accumulated in Double for long vocabularies.
    @inline(__always)
    static func maxAndSum(_ row: UnsafePointer<Float>, _ v: Int) -> (Float, Double) {
        var mx = -Float.infinity
        for j in 0..<v { mx = max(mx, row[j]) }
        var sum: Double = 0
        for j in 0..<v { sum += Double(expf(row[j] - mx)) }
        return (mx, sum)
    }
}
