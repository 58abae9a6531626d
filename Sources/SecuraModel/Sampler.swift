// Next-token choice from logits: greedy (argmax), or temperature + nucleus (top-p) sampling from a seed.
import Foundation
import SecuraTensor

/// How the next token is chosen.
public struct SamplingOptions: Sendable, Equatable {
    /// 0 means greedy decoding.
    public var temperature: Double
    /// Nucleus mass in (0, 1]; 1 disables top-p.
    public var topP: Double
    public var seed: UInt64

    public init(temperature: Double = 0, topP: Double = 1, seed: UInt64 = 0) {
        self.temperature = temperature
        self.topP = topP
        self.seed = seed
    }

    public static let greedy = SamplingOptions()
}

/// Draws tokens from logits with a private, seeded random stream.
public struct Sampler {
    public let options: SamplingOptions
    private var rng: SeededRandom

    public init(_ options: SamplingOptions) {
        self.options = options
        rng = SeededRandom(seed: options.seed)
    }

    /// Index of the largest logit (the first one on ties, as torch.argmax).
    public static func argmax(_ logits: [Float]) -> Int {
        var best = 0
        for i in 1..<logits.count where logits[i] > logits[best] { best = i }
        return best
    }

    /// The next token for `logits` [V].
    public mutating func next(_ logits: [Float]) -> Int {
        guard options.temperature > 0 else { return Self.argmax(logits) }
        let mx = Double(logits.max() ?? 0)
        var probs = logits.map { exp((Double($0) - mx) / options.temperature) }
        let z = probs.reduce(0, +)
        probs = probs.map { $0 / z }
        var order = Array(probs.indices)
        if options.topP < 1 {
            order.sort { probs[$0] > probs[$1] || (probs[$0] == probs[$1] && $0 < $1) }
            var kept = 0, mass = 0.0
            while kept < order.count && (kept == 0 || mass < options.topP) { mass += probs[order[kept]]; kept += 1 }
            order = Array(order[0..<kept])
        }
        let total = order.reduce(0) { $0 + probs[$1] }
        var u = rng.uniform() * total
        for i in order {
            u -= probs[i]
            if u <= 0 { return i }
        }
        return order.last!
    }
}
