// A training sequence with its loss mask, and the padding of several into one micro-batch (with each
// sequence's prompt length, which IMSM needs).

/// Token ids of one sequence and which of them are loss targets.
public struct TrainingExample: Sendable, Equatable, Codable {
    public var tokens: [Int32]
    /// lossMask[t]: token t is a target (predicted from tokens 0..<t). lossMask[0] is never used.
    public var lossMask: [Bool]

    public init(tokens: [Int32], lossMask: [Bool]) {
        precondition(tokens.count == lossMask.count, "one mask entry per token")
        self.tokens = tokens
        self.lossMask = lossMask
    }

    /// Number of scored tokens.
    public var targetCount: Int { lossMask.dropFirst().filter { $0 }.count }

    /// Positions before the first answer token (all of them when there is none): the prompt that IMSM's
    /// prompt means average over. Same definition as `IMSMGate.promptLength(answerMask:)`.
    public var promptLength: Int { lossMask.firstIndex(of: true) ?? lossMask.count }
}

extension TokenBatch {
    /// Right-pads `examples` with `padToken` to the longest one; targets are −1 on padding and unmasked rows.
    public static func padded(_ examples: [TrainingExample], padToken: Int32) -> (batch: TokenBatch, targets: [Int32]) {
        let t = examples.map(\.tokens.count).max() ?? 1
        var tokens: [Int32] = [], targets: [Int32] = []
        tokens.reserveCapacity(examples.count * t)
        targets.reserveCapacity(examples.count * t)
        for e in examples {
            for i in 0..<t {
                tokens.append(i < e.tokens.count ? e.tokens[i] : padToken)
                let next = i + 1
                targets.append(next < e.tokens.count && e.lossMask[next] ? e.tokens[next] : -1)
            }
        }
        // Right padding leaves every prompt where it was: P_b ≤ the sequence's own length ≤ T.
        return (TokenBatch(tokens: tokens, batch: examples.count, length: t, promptLengths: examples.map(\.promptLength)),
                targets)
    }
}
