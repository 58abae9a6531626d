// ROUGE-1 and ROUGE-L F-measures as Google's rouge-score 0.1.2 computes them with
// `RougeScorer(['rouge1', 'rougeL'], use_stemmer=True).score(target, prediction)`. Its default
// tokenizer lowercases with Python's `str.lower()`, turns every run of characters outside [a-z0-9]
// into a space (so accented letters split words and vanish), splits, and Porter-stems tokens longer
// than three characters with NLTK's stemmer. ROUGE-1 is clipped unigram overlap; ROUGE-L uses the
// longest common subsequence of the two token lists.

/// rouge-score's ROUGE-1 and ROUGE-L with its default stemming tokenizer.
public enum ROUGE {
    /// Precision, recall and their harmonic mean, as rouge-score's `Score` tuple.
    public struct Score: Equatable, Sendable {
        public var precision: Double
        public var recall: Double
        public var fmeasure: Double

        /// rouge-score's `scoring.fmeasure`: 2pr / (p + r), or 0 when p + r is 0.
        init(precision: Double, recall: Double) {
            self.precision = precision
            self.recall = recall
            self.fmeasure = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
        }
    }

    /// rouge-score's `tokenize.tokenize(text, PorterStemmer())`: lowercase, keep maximal runs of ASCII
    /// letters and digits, stem runs longer than three characters.
    public static func tokenize(_ text: String) -> [String] {
        let lowered = PythonText.lower(PythonText.scalars(text))
        var tokens: [String] = []
        var current = String.UnicodeScalarView()
        func flush() {
            guard !current.isEmpty else { return }
            let token = String(current)
            tokens.append(current.count > 3 ? PorterStemmer.stem(token) : token)
            current = String.UnicodeScalarView()
        }
        for c in lowered {
            if (c >= "a" && c <= "z") || (c >= "0" && c <= "9") {
                current.append(c)
            } else {
                flush()
            }
        }
        flush()
        // rouge-score drops tokens that are not [a-z0-9]+ after stemming; stems of such runs always are,
        // but the check is kept so an empty stem could never count.
        return tokens.filter { token in !token.isEmpty && token.unicodeScalars.allSatisfy {
            ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9")
        } }
    }

    /// ROUGE-1 of `prediction` against `target` (the reference): clipped unigram matches over the
    /// prediction's (precision) and the target's (recall) token counts, each at least 1.
    public static func rouge1Score(prediction: String, target: String) -> Score {
        let targetTokens = tokenize(target)
        let predictionTokens = tokenize(prediction)
        var predictionCounts: [String: Int] = [:]
        for token in predictionTokens { predictionCounts[token, default: 0] += 1 }
        var targetCounts: [String: Int] = [:]
        for token in targetTokens { targetCounts[token, default: 0] += 1 }
        var overlap = 0
        for (token, count) in targetCounts { overlap += min(count, predictionCounts[token, default: 0]) }
        return Score(precision: Double(overlap) / Double(max(predictionTokens.count, 1)),
                     recall: Double(overlap) / Double(max(targetTokens.count, 1)))
    }

    /// ROUGE-L of `prediction` against `target`: LCS length over each length; all zero when either side
    /// has no tokens.
    public static func rougeLScore(prediction: String, target: String) -> Score {
        let targetTokens = tokenize(target)
        let predictionTokens = tokenize(prediction)
        guard !targetTokens.isEmpty && !predictionTokens.isEmpty else { return Score(precision: 0, recall: 0) }
        let lcs = longestCommonSubsequence(targetTokens, predictionTokens)
        return Score(precision: Double(lcs) / Double(predictionTokens.count),
                     recall: Double(lcs) / Double(targetTokens.count))
    }

    /// The ROUGE-1 F-measure of `prediction` against `target`, in [0, 1].
    public static func rouge1(prediction: String, target: String) -> Double {
        rouge1Score(prediction: prediction, target: target).fmeasure
    }

    /// The ROUGE-L F-measure of `prediction` against `target`, in [0, 1].
    public static func rougeL(prediction: String, target: String) -> Double {
        rougeLScore(prediction: prediction, target: target).fmeasure
    }

    /// Length of the longest common subsequence (one DP row at a time).
    static func longestCommonSubsequence(_ a: [String], _ b: [String]) -> Int {
        var previous = [Int](repeating: 0, count: b.count + 1)
        var current = previous
        for i in 1...a.count {
            for j in 1...b.count {
                current[j] = a[i - 1] == b[j - 1] ? previous[j - 1] + 1 : max(previous[j], current[j - 1])
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
