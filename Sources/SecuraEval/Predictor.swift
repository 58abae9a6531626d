// Turning a record into the model's answer text, in the two scoring modes of the evaluation issue:
// `generate` (greedy decoding after the prompt, stopping at the end of the turn) and `teacher-forced`
// (the SECURA authors' protocol: feed prompt + gold answer once, take the argmax at every answer
// position, decode those tokens). Teacher forcing needs one forward per record; generation one per
// new token, with a KV cache.
import Foundation
import SecuraData
import SecuraModel
import SecuraTokenizer

/// How answers are produced.
public enum ScoringMode: String, CaseIterable, Sendable, Codable {
    case generate
    case teacherForced = "teacher-forced"
}

/// Produces answer texts with one model (base, or with adapters attached).
public final class Predictor {
    public let model: DecoderModel
    public let builder: PromptBuilder
    public let mode: ScoringMode
    /// Most new tokens in `generate` mode.
    public let maxNewTokens: Int
    private let stops: Set<Int32>

    /// - Parameters:
    ///   - builder: the prompt format (chat template or plain) and the maximum length, as in training.
    public init(model: DecoderModel, builder: PromptBuilder, mode: ScoringMode, maxNewTokens: Int = 32) {
        self.model = model
        self.builder = builder
        self.mode = mode
        self.maxNewTokens = maxNewTokens
        var stops = Set<Int32>()
        if let eos = builder.tokenizer.specialTokens.eos { stops.insert(Int32(eos)) }
        if let token = builder.template?.endOfTurnToken, let eot = builder.tokenizer.id(forToken: token) {
            stops.insert(Int32(eot))
        }
        self.stops = stops
    }

    /// The model's answer to `record`, as text (special tokens removed, surrounding whitespace trimmed).
    /// - Throws: `ModelError` when the prompt does not fit the model's context.
    public func predict(_ record: DataRecord) throws -> String {
        let ids: [Int32]
        switch mode {
        case .generate:
            var prompt = try builder.promptTokens(record)
            // Keep the end of a prompt that is too long: the question and the generation prompt are there.
            let room = max(1, builder.options.maxLength - maxNewTokens)
            if prompt.count > room { prompt = Array(prompt.suffix(room)) }
            ids = try model.generate(prompt: prompt, maxNewTokens: maxNewTokens, stopTokens: stops).tokens
        case .teacherForced:
            ids = teacherForced(try builder.fullExample(record))
        }
        return builder.tokenizer.decode(ids.map(Int.init), skipSpecialTokens: true)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The argmax token at every answer position of `example` (the logits of position t − 1 predict
    /// token t). Examples longer than the maximum length lose the start of the prompt.
    func teacherForced(_ example: TrainingExample) -> [Int32] {
        var e = example
        let limit = builder.options.maxLength
        if e.tokens.count > limit {
            e = TrainingExample(tokens: Array(e.tokens.suffix(limit)), lossMask: Array(e.lossMask.suffix(limit)))
        }
        let n = e.tokens.count
        guard n >= 2 else { return [] }
        // The prompt length matters only to IMSM, whose prompt means cover the tokens before the answer.
        let batch = TokenBatch(tokens: e.tokens, batch: 1, length: n, promptLengths: [e.promptLength])
        // The head runs only on the rows that predict an answer token (a few of a long prompt's hundreds).
        let acts = DecoderActivations(config: model.config, batch: 1, length: n, mode: .forwardOnly, logits: false)
        model.forward(batch, into: acts, logits: false)
        let rows = Self.answerRows(e.lossMask)
        let logits = model.headLogits(acts, rows: rows)
        return (0..<rows.count).map { Self.argmax(logits.pointer + $0 * model.config.vocabSize, model.config.vocabSize) }
    }

    /// The index of the largest of `count` values; the first wins ties, as torch.argmax does.
    static func argmax(_ row: UnsafePointer<Float>, _ count: Int) -> Int32 {
        var best = 0
        for j in 1..<count where row[j] > row[best] { best = j }
        return Int32(best)
    }

    /// For every position t ≥ 1 with `answerMask[t]`, the argmax of row t − 1 of `logits` [T, V] (the
    /// row that predicts token t); the first index wins ties, as torch.argmax does.
    public static func answerArgmax(logits: UnsafePointer<Float>, vocab v: Int, answerMask: [Bool]) -> [Int32] {
        answerRows(answerMask).map { argmax(logits + $0 * v, v) }
    }

    /// The logit rows that predict the answer tokens: t − 1 for every t ≥ 1 with `answerMask[t]`.
    static func answerRows(_ answerMask: [Bool]) -> [Int] {
        (1..<max(1, answerMask.count)).filter { answerMask[$0] }.map { $0 - 1 }
    }
}
