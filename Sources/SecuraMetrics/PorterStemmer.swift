// The Porter stemmer exactly as NLTK 3.10's `nltk.stem.porter.PorterStemmer()` runs it in its default
// NLTK_EXTENSIONS mode, which rouge-score uses for `use_stemmer=True`. That mode differs from Porter's
// 1980 paper: a pool of irregular forms ("dying" → "die", "skies" → "sky"), words of up to two letters
// left alone, "ies"/"ied" on four-letter words → "ie", y → i only after a consonant, "alli" handled
// recursively, "bli" → "ble", extra "fulli" and "logi" rules, and a two-letter vc stem counting as *o.
// Rules are tables of (suffix, replacement, condition) applied as NLTK's `_apply_rule_list` does: the
// first rule whose suffix matches decides, even when its condition then fails.

/// NLTK's Porter stemmer (NLTK_EXTENSIONS mode).
public enum PorterStemmer {
    /// NLTK's irregular forms, looked up on the lowercased word before any rule.
    static let pool: [String: String] = {
        let forms: [(String, [String])] = [
            ("sky", ["sky", "skies"]), ("die", ["dying"]), ("lie", ["lying"]), ("tie", ["tying"]),
            ("news", ["news"]), ("inning", ["innings", "inning"]), ("outing", ["outings", "outing"]),
            ("canning", ["cannings", "canning"]), ("howe", ["howe"]), ("proceed", ["proceed"]),
            ("exceed", ["exceed"]), ("succeed", ["succeed"]),
        ]
        var pool: [String: String] = [:]
        for (stem, words) in forms { for word in words { pool[word] = stem } }
        return pool
    }()

    /// The stem of `word`, as `PorterStemmer().stem(word)` returns it: the word is lowercased with
    /// Python's `str.lower()` first, and words of at most two code points come back lowercased only.
    public static func stem(_ word: String) -> String {
        let original = Array(word.unicodeScalars)
        let lowered = PythonText.lower(original)
        let loweredString = PythonText.string(lowered)
        // The pool is keyed by ASCII words, so String equality is code-point equality here.
        if let irregular = pool[loweredString], loweredString.unicodeScalars.allSatisfy(\.isASCII) {
            return irregular
        }
        // NLTK tests the length of the word as given, not of its lowercase form.
        if original.count <= 2 { return loweredString }
        var w = Word(lowered)
        w = step1a(w)
        w = step1b(w)
        w = step1c(w)
        w = step2(w)
        w = step3(w)
        w = step4(w)
        w = step5a(w)
        w = step5b(w)
        return PythonText.string(w.scalars)
    }

    // MARK: Steps (NLTK's _step1a … _step5b)

    static func step1a(_ w: Word) -> Word {
        if w.hasSuffix("ies") && w.count == 4 { return w.replacingSuffix(3, with: "ie") }
        return applyRules(w, [
            Rule("sses", "ss"), Rule("ies", "i"), Rule("ss", "ss"), Rule("s", ""),
        ])
    }

    static func step1b(_ w: Word) -> Word {
        if w.hasSuffix("ied") { return w.replacingSuffix(3, with: w.count == 4 ? "ie" : "i") }
        if w.hasSuffix("eed") {
            let stem = w.dropping(3)
            return stem.measure > 0 ? stem.appending("ee") : w
        }
        var intermediate: Word? = nil
        for suffix in ["ed", "ing"] where w.hasSuffix(suffix) {
            let stem = w.dropping(suffix.count)
            if stem.containsVowel {
                intermediate = stem
                break
            }
        }
        guard let stem = intermediate else { return w }
        let last = stem.scalars[stem.count - 1]
        let lastString = String(Character(last))
        return applyRules(stem, [
            Rule("at", "ate"), Rule("bl", "ble"), Rule("iz", "ize"),
            Rule(doubleConsonantWith: lastString) { _ in !["l", "s", "z"].contains(last) },
            Rule("", "e") { $0.measure == 1 && $0.endsCVC },
        ])
    }

    static func step1c(_ w: Word) -> Word {
        applyRules(w, [Rule("y", "i") { $0.count > 1 && $0.isConsonant($0.count - 1) }])
    }

    static func step2(_ w: Word) -> Word {
        if w.hasSuffix("alli") && w.dropping(4).measure > 0 {
            return step2(w.replacingSuffix(4, with: "al"))
        }
        let positive: (Word) -> Bool = { $0.measure > 0 }
        return applyRules(w, [
            Rule("ational", "ate", positive), Rule("tional", "tion", positive), Rule("enci", "ence", positive),
            Rule("anci", "ance", positive), Rule("izer", "ize", positive), Rule("bli", "ble", positive),
            Rule("alli", "al", positive), Rule("entli", "ent", positive), Rule("eli", "e", positive),
            Rule("ousli", "ous", positive), Rule("ization", "ize", positive), Rule("ation", "ate", positive),
            Rule("ator", "ate", positive), Rule("alism", "al", positive), Rule("iveness", "ive", positive),
            Rule("fulness", "ful", positive), Rule("ousness", "ous", positive), Rule("aliti", "al", positive),
            Rule("iviti", "ive", positive), Rule("biliti", "ble", positive), Rule("fulli", "ful", positive),
            // NLTK measures the word minus "ogi" (keeping the "l"), not the stem before "logi".
            Rule("logi", "log") { _ in w.dropping(3).measure > 0 },
        ])
    }

    static func step3(_ w: Word) -> Word {
        let positive: (Word) -> Bool = { $0.measure > 0 }
        return applyRules(w, [
            Rule("icate", "ic", positive), Rule("ative", "", positive), Rule("alize", "al", positive),
            Rule("iciti", "ic", positive), Rule("ical", "ic", positive), Rule("ful", "", positive),
            Rule("ness", "", positive),
        ])
    }

    static func step4(_ w: Word) -> Word {
        let measureAbove1: (Word) -> Bool = { $0.measure > 1 }
        var rules = ["al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent"]
            .map { Rule($0, "", measureAbove1) }
        rules.append(Rule("ion", "") { stem in
            stem.measure > 1 && (stem.scalars.last == "s" || stem.scalars.last == "t")
        })
        rules += ["ou", "ism", "ate", "iti", "ous", "ive", "ize"].map { Rule($0, "", measureAbove1) }
        return applyRules(w, rules)
    }

    static func step5a(_ w: Word) -> Word {
        guard w.hasSuffix("e") else { return w }
        let stem = w.dropping(1)
        let m = stem.measure
        if m > 1 { return stem }
        if m == 1 && !stem.endsCVC { return stem }
        return w
    }

    static func step5b(_ w: Word) -> Word {
        applyRules(w, [Rule("ll", "l") { _ in w.dropping(1).measure > 1 }])
    }

    // MARK: Rules

    /// One suffix rule. `doubleConsonant` is NLTK's "*d" pseudo-suffix: the word ends in a doubled
    /// consonant, and the stem is the word minus both letters.
    struct Rule {
        var suffix: String
        var replacement: String
        var doubleConsonant = false
        var condition: ((Word) -> Bool)?

        init(_ suffix: String, _ replacement: String, _ condition: ((Word) -> Bool)? = nil) {
            self.suffix = suffix
            self.replacement = replacement
            self.condition = condition
        }

        init(doubleConsonantWith replacement: String, _ condition: @escaping (Word) -> Bool) {
            self.suffix = "*d"
            self.replacement = replacement
            self.doubleConsonant = true
            self.condition = condition
        }
    }

    /// NLTK's `_apply_rule_list`: the first rule whose suffix matches returns stem + replacement if its
    /// condition holds, else the word unchanged; no match leaves the word unchanged.
    static func applyRules(_ w: Word, _ rules: [Rule]) -> Word {
        for rule in rules {
            if rule.doubleConsonant && w.endsDoubleConsonant {
                let stem = w.dropping(2)
                return rule.condition?(stem) ?? true ? stem.appending(rule.replacement) : w
            }
            // As in NLTK, "*d" is also tried as a literal suffix, which only a word ending in "*d" has.
            if w.hasSuffix(rule.suffix) {
                let stem = w.dropping(rule.suffix.unicodeScalars.count)
                return rule.condition?(stem) ?? true ? stem.appending(rule.replacement) : w
            }
        }
        return w
    }
}
