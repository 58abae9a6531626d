// Next-token losses of one token sequence (what `secura-dist score` prints): position t scores token t+1
// given tokens 0..t, so T tokens give T − 1 losses; their mean is the sequence's loss.
import Foundation
import SecuraModel

public struct SequenceScore: Sendable {
    /// Mean loss over the scored positions.
    public let loss: Double
    /// Per position, T − 1 values.
    public let losses: [Double]
    /// The logits [T, vocab], row-major (only when asked for).
    public let logits: [Float]?

    /// Scores `ids` (at least two) with `decoder`. `promptLength`: for an IMSM adapter, the tokens its
    /// prompt means average over (nil: all).
    /// - Throws: `RunSettingError` for fewer than two tokens or a prompt length outside 0…T, and the
    ///   decoder's errors for ids outside the vocabulary or a sequence longer than the context.
    public static func score(_ decoder: DecoderModel, ids: [Int32], promptLength: Int? = nil, keepLogits: Bool = false) throws -> SequenceScore {
        guard ids.count >= 2 else { throw RunSettingError(.data, "\(ids.count) token(s): at least two are needed to score") }
        if let p = promptLength, !(0...ids.count).contains(p) {
            throw RunSettingError(.data, "a prompt length of \(p) is outside 0...\(ids.count) (the sequence's tokens)")
        }
        let batch = TokenBatch(tokens: ids, batch: 1, length: ids.count, promptLengths: promptLength.map { [$0] })
        try decoder.validate(batch)
        let acts = DecoderActivations(config: decoder.config, batch: 1, length: ids.count, mode: .forwardOnly)
        decoder.forward(batch, into: acts)
        let (sum, count) = decoder.crossEntropy(acts, targets: batch.nextTokenTargets)
        let losses = (0..<(ids.count - 1)).map { Double(acts.losses.pointer[$0]) }
        return SequenceScore(loss: sum / Double(count), losses: losses, logits: keepLogits ? acts.logits.toArray() : nil)
    }
}
