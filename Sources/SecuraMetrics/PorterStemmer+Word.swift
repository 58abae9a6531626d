// The word the Porter stemmer rewrites, with the paper's conditions on it: consonant/vowel pattern,
// measure m, *v*, *d and *o. Like NLTK it works on code points, so any character other than a, e, i,
// o, u (and y after a consonant) counts as a consonant, digits and accented letters included.

extension PorterStemmer {
    /// A lowercased word as code points.
    struct Word {
        var scalars: Scalars

        init(_ scalars: Scalars) { self.scalars = scalars }

        var count: Int { scalars.count }

        func hasSuffix(_ suffix: String) -> Bool {
            PythonText.hasSuffix(scalars, Array(suffix.unicodeScalars))
        }

        /// The word without its last `n` code points.
        func dropping(_ n: Int) -> Word { Word(Array(scalars[0..<(scalars.count - n)])) }

        func appending(_ tail: String) -> Word { Word(scalars + Array(tail.unicodeScalars)) }

        func replacingSuffix(_ n: Int, with tail: String) -> Word { dropping(n).appending(tail) }

        private static func isVowelLetter(_ c: Unicode.Scalar) -> Bool {
            c == "a" || c == "e" || c == "i" || c == "o" || c == "u"
        }

        /// NLTK's `_consonant_flags`: true for a consonant. "y" is a consonant at the start of the word
        /// or after a vowel, and a vowel after a consonant.
        var consonantFlags: [Bool] {
            var flags: [Bool] = []
            flags.reserveCapacity(scalars.count)
            for (i, c) in scalars.enumerated() {
                if Word.isVowelLetter(c) {
                    flags.append(false)
                } else if c == "y" {
                    flags.append(i == 0 ? true : !flags[i - 1])
                } else {
                    flags.append(true)
                }
            }
            return flags
        }

        /// NLTK's `_is_consonant(word, i)` (the same classification as `consonantFlags`).
        func isConsonant(_ i: Int) -> Bool { consonantFlags[i] }

        /// m in [C](VC)^m[V]: the number of vowel-to-consonant transitions.
        var measure: Int {
            var m = 0
            var previousIsVowel = false
            for isConsonant in consonantFlags {
                if isConsonant && previousIsVowel { m += 1 }
                previousIsVowel = !isConsonant
            }
            return m
        }

        /// *v*: the word contains a vowel.
        var containsVowel: Bool { consonantFlags.contains(false) }

        /// *d: the word ends with two equal consonants.
        var endsDoubleConsonant: Bool {
            count >= 2 && scalars[count - 1] == scalars[count - 2] && isConsonant(count - 1)
        }

        /// *o: the word ends consonant-vowel-consonant with the last not w, x or y; NLTK_EXTENSIONS also
        /// accepts a whole two-letter word vowel-consonant (any consonant).
        var endsCVC: Bool {
            let flags = consonantFlags
            let n = count
            if n >= 3 && flags[n - 3] && !flags[n - 2] && flags[n - 1]
                && !["w", "x", "y"].contains(scalars[n - 1]) {
                return true
            }
            return n == 2 && !flags[0] && flags[1]
        }
    }
}
