// Sentence BLEU exactly as NLTK 3.10 computes it with
// `sentence_bleu(references, hypothesis, smoothing_function=SmoothingFunction().method4)` and the
// default weights (0.25, 0.25, 0.25, 0.25). The SECURA paper scores generation tasks this way on raw
// Python strings, which NLTK iterates character by character; `characterLevel` reproduces that and
// `wordLevel` is the same metric on `str.split()` tokens. Every branch of NLTK is kept, since each
// changes scores on short outputs: the early 0 when no unigram matches, method4's smoothing of empty
// orders (which needs more than one hypothesis unit), and the skipped orders of a one-unit hypothesis.

import Foundation

/// NLTK's sentence-level BLEU-4 with Chen & Cherry's smoothing method 4.
public enum BLEU {
    /// Method 4's `k` (NLTK's `SmoothingFunction` default).
    static let smoothingK = 5
    /// The n-gram orders of the default weights.
    static let maxOrder = 4
    static let weight = 0.25

    /// BLEU over code points: NLTK called with `references = [ref_string, ...]` and
    /// `hypothesis = hyp_string`, so n-grams are runs of 1–4 characters (Python code points, not
    /// grapheme clusters: "e\u{301}" is two units). Returns a value in [0, 1].
    public static func characterLevel(hypothesis: String, references: [String]) -> Double {
        sentence(references: references.map { Array($0.unicodeScalars) }, hypothesis: Array(hypothesis.unicodeScalars))
    }

    /// BLEU over whitespace tokens: NLTK called with `[ref.split() for ref in references]` and
    /// `hypothesis.split()` (Python's `split()`, which also splits on Unicode spaces such as U+00A0).
    /// Tokens are equal when their code points are. Returns a value in [0, 1].
    public static func wordLevel(hypothesis: String, references: [String]) -> Double {
        sentence(references: references.map { PythonText.split(PythonText.scalars($0)) },
                 hypothesis: PythonText.split(PythonText.scalars(hypothesis)))
    }

    /// NLTK's `sentence_bleu` with method 4 on any token type. `Token`'s `==` decides matches, so pass
    /// `[Unicode.Scalar]` rather than `String` for Python's code-point equality.
    /// - Parameters:
    ///   - references: one or more reference token sequences; the brevity penalty uses the one whose
    ///     length is closest to the hypothesis (the shorter on a tie), and n-gram counts are clipped by
    ///     the largest count in any reference.
    ///   - hypothesis: the candidate token sequence.
    /// - Precondition: `references` is not empty (NLTK raises on an empty list too).
    public static func sentence<Token: Hashable>(references: [[Token]], hypothesis: [Token]) -> Double {
        precondition(!references.isEmpty, "BLEU needs at least one reference")
        // Token ids make the n-gram keys small fixed-size values instead of arrays of tokens.
        var ids: [Token: Int] = [:]
        func encode(_ tokens: [Token]) -> [Int] {
            tokens.map { token in
                if let id = ids[token] { return id }
                let id = ids.count
                ids[token] = id
                return id
            }
        }
        let hyp = encode(hypothesis)
        return score(references: references.map(encode), hypothesis: hyp)
    }

    /// `corpus_bleu([references], [hypothesis], ...)` on token ids.
    static func score(references: [[Int]], hypothesis: [Int]) -> Double {
        var numerators: [Int] = []
        var denominators: [Int] = []
        for n in 1...maxOrder {
            let (numerator, denominator) = modifiedPrecision(references: references, hypothesis: hypothesis, n: n)
            numerators.append(numerator)
            denominators.append(denominator)
        }
        let hypLength = hypothesis.count
        let refLength = closestReferenceLength(references: references, hypothesisLength: hypLength)
        // NLTK returns 0 before smoothing when no unigram matches; this also covers an empty hypothesis.
        if numerators[0] == 0 { return 0 }

        // Method 4: each order without a match gets 1 / (2^incvnt · k / ln(len)) / denominator, with
        // incvnt counting the orders smoothed so far. It needs len > 1 (ln 1 = 0); with one unit the
        // empty orders stay 0 and drop out of the sum below, so their weight is simply lost.
        var precisions: [Double] = []
        var incvnt = 1
        for n in 0..<maxOrder {
            if numerators[n] == 0 && hypLength > 1 {
                let smoothed = 1.0 / (Double((1 << incvnt) * smoothingK) / Foundation.log(Double(hypLength)))
                precisions.append(smoothed / Double(denominators[n]))
                incvnt += 1
            } else {
                precisions.append(Double(numerators[n]) / Double(denominators[n]))
            }
        }
        let logSum = CorrectlyRoundedSum.fsum(precisions.filter { $0 > 0 }.map { weight * Foundation.log($0) })
        return brevityPenalty(referenceLength: refLength, hypothesisLength: hypLength) * Foundation.exp(logSum)
    }

    /// NLTK's `modified_precision` as an unreduced fraction: clipped n-gram matches over the number of
    /// hypothesis n-grams, with the denominator at least 1 (a hypothesis shorter than `n` gives 0/1).
    static func modifiedPrecision(references: [[Int]], hypothesis: [Int], n: Int) -> (numerator: Int, denominator: Int) {
        let counts = ngramCounts(hypothesis, n: n)
        var maxCounts: [NGram: Int] = [:]
        for reference in references {
            let referenceCounts = ngramCounts(reference, n: n)
            for gram in counts.keys {
                maxCounts[gram] = max(maxCounts[gram, default: 0], referenceCounts[gram, default: 0])
            }
        }
        var numerator = 0
        var total = 0
        for (gram, count) in counts {
            numerator += min(count, maxCounts[gram, default: 0])
            total += count
        }
        return (numerator, max(1, total))
    }

    /// The reference length closest to the hypothesis length; ties go to the shorter reference.
    static func closestReferenceLength(references: [[Int]], hypothesisLength: Int) -> Int {
        references.map(\.count).min { a, b in
            let da = abs(a - hypothesisLength), db = abs(b - hypothesisLength)
            return da != db ? da < db : a < b
        }!
    }

    /// 1 when the hypothesis is longer than the reference, 0 when it is empty, else e^(1 − r/c).
    static func brevityPenalty(referenceLength r: Int, hypothesisLength c: Int) -> Double {
        if c > r { return 1 }
        if c == 0 { return 0 }
        return Foundation.exp(1 - Double(r) / Double(c))
    }

    /// An n-gram of token ids, n ≤ 4, padded with −1.
    struct NGram: Hashable {
        var a: Int, b: Int, c: Int, d: Int
    }

    static func ngramCounts(_ tokens: [Int], n: Int) -> [NGram: Int] {
        var counts: [NGram: Int] = [:]
        guard tokens.count >= n else { return counts }
        for i in 0...(tokens.count - n) {
            let gram = NGram(a: tokens[i], b: n > 1 ? tokens[i + 1] : -1,
                             c: n > 2 ? tokens[i + 2] : -1, d: n > 3 ? tokens[i + 3] : -1)
            counts[gram, default: 0] += 1
        }
        return counts
    }
}
