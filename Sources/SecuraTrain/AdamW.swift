// AdamW with PyTorch's semantics (torch.optim.AdamW): decoupled weight decay, bias correction,
// one loop over the whole flat parameter buffer (a part of it may have its own learning rate, as a
// PyTorch parameter group: IMSM's gate).
import Foundation
import SecuraTensor

/// AdamW hyper-parameters (PyTorch defaults except the learning rate, which the schedule sets).
public struct AdamWSettings: Sendable, Equatable, Codable {
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var eps: Float = 1e-8
    public var weightDecay: Float = 0.01
    public init() {}
}

/// AdamW state over one flat buffer: first and second moments and the step count.
public final class AdamW {
    public let settings: AdamWSettings
    public let m: FloatBuffer
    public let v: FloatBuffer
    /// Optimizer steps taken (PyTorch's `step`, 1 after the first update).
    public var step = 0

    public init(count: Int, settings: AdamWSettings) {
        self.settings = settings
        m = FloatBuffer(count: count)
        v = FloatBuffer(count: count)
    }

    /// One update of `values` from `gradients` (both `count` = m.count elements) at learning rate `lr`.
    /// - Parameter ranges: parts of the buffer updated at their own learning rate instead (IMSM's gate),
    ///   like PyTorch parameter groups: the same moments, step count and betas, but that group's lr in both
    ///   the step and the decoupled weight decay. Disjoint, within 0..<count.
    public func update(values p: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<Float>, lr: Float,
                       ranges: [(range: Range<Int>, lr: Float)] = []) {
        step += 1
        var rest = [0..<m.count]
        for (range, _) in ranges {
            precondition(range.lowerBound >= 0 && range.upperBound <= m.count, "learning-rate range \(range) outside 0..<\(m.count)")
            rest = rest.flatMap { part -> [Range<Int>] in
                guard part.overlaps(range) else { return [part] }
                return [part.lowerBound..<range.lowerBound, range.upperBound..<part.upperBound].filter { !$0.isEmpty }
            }
        }
        for part in rest { update(p, g, part, lr: lr) }
        for (range, groupLR) in ranges { update(p, g, range, lr: groupLR) }
    }

    /// The AdamW step of elements `range` at `lr` (`step` already counts this update).
    private func update(_ p: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>, _ range: Range<Int>, lr: Float) {
        let s = settings
        let bc1 = 1 - pow(Double(s.beta1), Double(step))
        let bc2 = 1 - pow(Double(s.beta2), Double(step))
        let stepSize = Float(Double(lr) / bc1)
        let bc2Sqrt = Float(bc2.squareRoot())
        let decay = 1 - lr * s.weightDecay
        let m = self.m.pointer + range.lowerBound, v = self.v.pointer + range.lowerBound
        let p = p + range.lowerBound, g = g + range.lowerBound
        Parallel.forRanges(range.count, minChunk: 1 << 14) { chunk in
            for i in chunk {
                p[i] *= decay
                m[i] = s.beta1 * m[i] + (1 - s.beta1) * g[i]
                v[i] = s.beta2 * v[i] + (1 - s.beta2) * g[i] * g[i]
                let denom = v[i].squareRoot() / bc2Sqrt + s.eps
                p[i] -= stepSize * m[i] / denom
            }
        }
    }
}
