// Learning-rate schedules as transformers' get_scheduler defines them: the k-th optimizer step
// (k from 0) uses base · λ(k), with a linear warmup over the first W steps.
import Foundation

public enum LRScheduleKind: String, CaseIterable, Sendable, Codable {
    case constant
    case linear
    case cosine
}

public struct LRSchedule: Sendable, Equatable, Codable {
    public var kind: LRScheduleKind
    public var base: Double
    public var warmup: Int
    public var total: Int

    public init(kind: LRScheduleKind, base: Double, warmup: Int, total: Int) {
        self.kind = kind
        self.base = base
        self.warmup = warmup
        self.total = total
    }

    /// The learning rate of optimizer step k (0-based).
    public func lr(at k: Int) -> Double {
        if k < warmup { return base * Double(k) / Double(max(1, warmup)) }
        let span = Double(max(1, total - warmup))
        switch kind {
        case .constant:
            return base
        case .linear:
            return base * max(0, Double(total - k) / span)
        case .cosine:
            return base * max(0, 0.5 * (1 + cos(Double.pi * Double(k - warmup) / span)))
        }
    }
}
