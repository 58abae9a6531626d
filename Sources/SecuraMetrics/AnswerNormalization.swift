// The answer normalisation of the SQuAD v1.1 evaluation script (`normalize_answer`), which exact match,
// contains-answer, token F1 and multiple-choice matching all compare through: Python `lower()`, drop
// ASCII punctuation (`string.punctuation`), replace the words "a", "an", "the" by a space (`\b` word
// boundaries of Python's `re`, so "the" in "theory" or "the_x" stays), then collapse whitespace.

/// SQuAD's answer normalisation.
public enum AnswerNormalization {
    /// Python's `string.punctuation`.
    static let punctuation = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".unicodeScalars)

    /// `normalize_answer(text)` from SQuAD v1.1's evaluate script.
    public static func normalize(_ text: String) -> String {
        PythonText.string(normalizedScalars(text))
    }

    /// `normalize_answer(text)` as code points.
    static func normalizedScalars(_ text: String) -> Scalars {
        let lowered = PythonText.lower(PythonText.scalars(text))
        let withoutPunctuation = lowered.filter { !punctuation.contains($0) }
        let withoutArticles = removeArticles(withoutPunctuation)
        return Array(PythonText.split(withoutArticles).joined(separator: [" "]))
    }

    /// `normalize_answer(text).split()`: the answer's tokens.
    static func tokens(_ text: String) -> [Scalars] {
        PythonText.split(normalizedScalars(text))
    }

    private static let articles: [Scalars] = [["a"], ["a", "n"], ["t", "h", "e"]]

    /// `re.sub(r'\b(a|an|the)\b', ' ', text)`: scanning left to right, at each word start try "a", "an",
    /// "the" in that order and take the first that also ends at a word boundary.
    static func removeArticles(_ text: Scalars) -> Scalars {
        var out: Scalars = []
        out.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            if i == 0 || !PythonText.isWordCharacter(text[i - 1]) {
                var matched = 0
                for article in articles where i + article.count <= text.count {
                    let end = i + article.count
                    if text[i..<end].elementsEqual(article)
                        && (end == text.count || !PythonText.isWordCharacter(text[end])) {
                        matched = article.count
                        break
                    }
                }
                if matched > 0 {
                    out.append(" ")
                    i += matched
                    continue
                }
            }
            out.append(text[i])
            i += 1
        }
        return out
    }
}
