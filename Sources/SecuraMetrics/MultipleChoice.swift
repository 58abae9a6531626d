// Multiple-choice accuracy for generated answers (BIG-bench tasks such as logical_deduction, yes/no
// classification): the model writes text, not a choice index, so the text is matched to a choice.
// Both sides are SQuAD-normalised (AnswerNormalization). The answer is correct when the prediction
// equals the gold choice, or when it starts with the gold choice as whole words ("yes, because …")
// and no longer choice also starts it — so "not sure" never counts as "no", and "the black book is
// the leftmost" is read as that choice rather than as a shorter choice it begins with.

/// Matching a free-text answer to the gold choice of a multiple-choice question.
public enum MultipleChoice {
    /// 1 if `prediction` selects `gold`, else 0. With p, g and cᵢ the normalised prediction, gold and
    /// choices: correct when p = g; otherwise take, among the non-empty cᵢ and g that p equals or starts
    /// with followed by a space, the longest one (by code points), and the answer is correct when that is
    /// g. `choices` may or may not include `gold`.
    public static func accuracy(prediction: String, gold: String, choices: [String]) -> Double {
        let p = AnswerNormalization.normalizedScalars(prediction)
        let g = AnswerNormalization.normalizedScalars(gold)
        if p == g { return 1 }
        var best: Scalars? = nil
        for choice in choices + [gold] {
            let c = AnswerNormalization.normalizedScalars(choice)
            guard !c.isEmpty else { continue }
            let selects = p == c || PythonText.hasPrefix(p, c + [" "])
            if selects && c.count > (best?.count ?? -1) { best = c }
        }
        return best == g ? 1 : 0
    }

    /// The mean of `accuracy` over aligned predictions, golds and choice lists (0 for no items).
    /// - Precondition: the three arrays have the same length.
    public static func meanAccuracy(predictions: [String], golds: [String], choices: [[String]]) -> Double {
        precondition(predictions.count == golds.count && golds.count == choices.count,
                     "predictions, golds and choices must be aligned")
        guard !predictions.isEmpty else { return 0 }
        var total = 0.0
        for i in predictions.indices {
            total += accuracy(prediction: predictions[i], gold: golds[i], choices: choices[i])
        }
        return total / Double(predictions.count)
    }
}
