// Matthews correlation coefficient, the CoLA metric, computed as scikit-learn's `matthews_corrcoef`
// does: from the confusion matrix over the labels that occur, in float64, with 0 (not NaN) when a
// marginal is constant — e.g. a model that always answers "yes". The binary form is the CoLA case;
// the generic form is sklearn's multiclass formula, which the binary one is a special case of, and
// lets an unparseable answer be its own class.

/// scikit-learn's Matthews correlation coefficient.
public enum MatthewsCorrelation {
    /// MCC of `predictions` against `labels`, in [−1, 1]; for CoLA pass `Bool`s (`true` = "yes").
    /// This is sklearn's multiclass formula, which for two classes is the usual binary MCC:
    /// (c·s − Σₖ tₖpₖ) / √((s² − Σₖ pₖ²)(s² − Σₖ tₖ²)), with s samples, c correct, tₖ the times class k
    /// is the label and pₖ the times it is predicted; 0 when the denominator is 0 or there is no input.
    /// - Precondition: `labels` and `predictions` have the same length.
    public static func coefficient<Label: Hashable>(labels: [Label], predictions: [Label]) -> Double {
        precondition(labels.count == predictions.count, "labels and predictions must have the same length")
        var trueCounts: [Label: Int] = [:]
        var predictedCounts: [Label: Int] = [:]
        var correct = 0
        for (label, prediction) in zip(labels, predictions) {
            trueCounts[label, default: 0] += 1
            predictedCounts[prediction, default: 0] += 1
            if label == prediction { correct += 1 }
        }
        // sklearn works in float64; the counts and their products are exact integers in Double for any
        // realistic size, so only the last product, the square root and the division round, as in numpy.
        let samples = Double(labels.count)
        var dotTP = 0.0, dotPP = 0.0, dotTT = 0.0
        for (label, t) in trueCounts {
            dotTP += Double(t) * Double(predictedCounts[label, default: 0])
            dotTT += Double(t) * Double(t)
        }
        for (_, p) in predictedCounts { dotPP += Double(p) * Double(p) }
        let covYtYp = Double(correct) * samples - dotTP
        let covYpYp = samples * samples - dotPP
        let covYtYt = samples * samples - dotTT
        let product = covYpYp * covYtYt
        if product == 0 { return 0 }
        return covYtYp / product.squareRoot()
    }
}
