// The Porter stemmer against NLTK's PorterStemmer() (NLTK_EXTENSIONS) on every golden word: words from
// the task data plus each rule's and each extension's tricky cases.

import XCTest
@testable import SecuraMetrics

final class PorterStemmerTests: XCTestCase {
    func testEveryGoldenWordMatchesNLTK() throws {
        let golden = try GoldenMetrics.load()
        XCTAssertGreaterThanOrEqual(golden.stems.count, 300)
        var failures: [String] = []
        for entry in golden.stems {
            let stem = PorterStemmer.stem(entry[0])
            if stem.unicodeScalars.elementsEqual(entry[1].unicodeScalars) == false {
                failures.append("\(entry[0].debugDescription): got \(stem.debugDescription), NLTK \(entry[1].debugDescription)")
            }
        }
        XCTAssert(failures.isEmpty, "\(failures.count) of \(golden.stems.count) stems differ:\n" + failures.joined(separator: "\n"))
    }

    func testPaperExamplesAndNLTKExtensions() {
        let cases = [
            ("caresses", "caress"), ("ponies", "poni"), ("ties", "tie"), ("hopping", "hop"),
            ("falling", "fall"), ("agreed", "agre"), ("feed", "feed"), ("happily", "happili"),
            ("relational", "relat"), ("conditional", "condit"), ("generalizations", "gener"),
            // The irregular-forms pool.
            ("sky", "sky"), ("skies", "sky"), ("dying", "die"), ("lying", "lie"), ("news", "news"),
            ("abaisse", "abaiss"),
            // At most two characters: only lowercased.
            ("AS", "as"), ("", ""),
        ]
        for (word, stem) in cases {
            XCTAssertEqual(PorterStemmer.stem(word), stem, word)
        }
    }

    func testMeasure() {
        func m(_ s: String) -> Int { PorterStemmer.Word(Array(s.unicodeScalars)).measure }
        XCTAssertEqual(["tr", "ee", "tree", "y", "by"].map(m), [0, 0, 0, 0, 0])
        XCTAssertEqual(["trouble", "oats", "trees", "ivy"].map(m), [1, 1, 1, 1])
        XCTAssertEqual(["troubles", "private", "oaten", "orrery"].map(m), [2, 2, 2, 2])
    }
}
