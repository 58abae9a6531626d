// Short-answer metrics over SQuAD-normalised text (ROPES, disfl_qa, object_counting): exact match,
// contains-answer and token F1, each the best over a list of acceptable gold answers, as the SQuAD
// v1.1 script's `metric_max_over_ground_truths` takes it. Token F1 follows v1.1 exactly, including
// its quirk that two answers normalising to nothing score F1 0 (but exact match 1).

/// Exact match, contains-answer and token F1 against one or more gold answers.
public enum AnswerMatching {
    /// 1 if the normalised prediction equals some normalised gold answer, else 0.
    /// Returns 0 when `golds` is empty.
    public static func exactMatch(prediction: String, golds: [String]) -> Double {
        let p = AnswerNormalization.normalizedScalars(prediction)
        return golds.contains { AnswerNormalization.normalizedScalars($0) == p } ? 1 : 0
    }

    /// 1 if some normalised gold answer occurs as a substring of the normalised prediction, else 0.
    /// A gold answer that normalises to "" (e.g. "the") is contained in every prediction.
    /// Returns 0 when `golds` is empty.
    public static func containsAnswer(prediction: String, golds: [String]) -> Double {
        let p = AnswerNormalization.normalizedScalars(prediction)
        return golds.contains { PythonText.contains(p, AnswerNormalization.normalizedScalars($0)) } ? 1 : 0
    }

    /// SQuAD v1.1 token F1, maximised over `golds`: with `common` the multiset intersection of the
    /// normalised tokens, precision = common / prediction tokens, recall = common / gold tokens,
    /// F1 = 2PR / (P + R), and 0 when nothing is in common. Returns 0 when `golds` is empty.
    public static func tokenF1(prediction: String, golds: [String]) -> Double {
        let predictionTokens = AnswerNormalization.tokens(prediction)
        return golds.map { tokenF1(predictionTokens, AnswerNormalization.tokens($0)) }.max() ?? 0
    }

    /// SQuAD v1.1's `f1_score` on already-normalised tokens.
    static func tokenF1(_ prediction: [Scalars], _ gold: [Scalars]) -> Double {
        var goldCounts: [Scalars: Int] = [:]
        for token in gold { goldCounts[token, default: 0] += 1 }
        var same = 0
        for token in prediction {
            if let left = goldCounts[token], left > 0 {
                same += 1
                goldCounts[token] = left - 1
            }
        }
        if same == 0 { return 0 }
        let precision = 1.0 * Double(same) / Double(prediction.count)
        let recall = 1.0 * Double(same) / Double(gold.count)
        return (2 * precision * recall) / (precision + recall)
    }
}
