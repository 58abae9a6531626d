// The Python str semantics the metrics are built on, against CPython's own answers recorded in
// golden.json: every code point str.isspace() accepts, re's \w on a sample, and str.lower() on
// strings with context-dependent and multi-code-point lowercase mappings.

import XCTest
@testable import SecuraMetrics

final class PythonTextTests: XCTestCase {
    func testWhitespaceIsPythonsIsspace() throws {
        let golden = try GoldenMetrics.load()
        XCTAssertEqual(PythonText.whitespace, Set(golden.pythonWhitespace))
        for value in golden.pythonWhitespace { XCTAssert(PythonText.isSpace(Unicode.Scalar(value)!), "U+\(String(value, radix: 16))") }
        XCTAssertFalse(PythonText.isSpace("\u{200B}"))
    }

    func testWordCharactersMatchPythonRe() throws {
        for entry in try GoldenMetrics.load().wordCharacters {
            let scalar = Unicode.Scalar(UInt32(entry[0]))!
            XCTAssertEqual(PythonText.isWordCharacter(scalar), entry[1] != 0, "U+\(String(entry[0], radix: 16))")
        }
    }

    func testWordCharactersMatchPythonReOnEveryCodePoint() throws {
        var expected = Set<UInt32>()
        for range in try GoldenMetrics.load().wordCharacterRanges { for v in range[0]...range[1] { expected.insert(v) } }
        var mismatches: [String] = []
        for v in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(v) else { continue }
            if PythonText.isWordCharacter(scalar) != expected.contains(v) {
                mismatches.append("U+\(String(v, radix: 16, uppercase: true)) (Python \(expected.contains(v)))")
            }
        }
        XCTAssert(mismatches.isEmpty, "\(mismatches.count) code points differ from re's \\w: "
                  + mismatches.prefix(40).joined(separator: ", "))
    }

    func testLowerMatchesPythonOnEveryCodePoint() throws {
        let golden = try GoldenMetrics.load()
        var expected: [UInt32: String] = [:]
        for entry in golden.lowercaseMap { expected[entry.codePoint] = entry.lower }
        var mismatches: [String] = []
        for v in UInt32(0)...0x10FFFF where v != 0x3A3 {
            guard let scalar = Unicode.Scalar(v) else { continue }
            let got = PythonText.string(PythonText.lower([scalar]))
            let want = expected[v] ?? String(Character(scalar))
            if !got.unicodeScalars.elementsEqual(want.unicodeScalars) {
                mismatches.append("U+\(String(v, radix: 16, uppercase: true)) → \(got.unicodeScalars.map { String($0.value, radix: 16) }) "
                                  + "(Python \(want.unicodeScalars.map { String($0.value, radix: 16) }))")
            }
        }
        XCTAssert(mismatches.isEmpty, "\(mismatches.count) code points lowercase differently from Python: "
                  + mismatches.prefix(40).joined(separator: ", "))
    }

    func testLowerMatchesPython() throws {
        for entry in try GoldenMetrics.load().lowercase {
            let got = PythonText.string(PythonText.lower(PythonText.scalars(entry[0])))
            XCTAssert(got.unicodeScalars.elementsEqual(entry[1].unicodeScalars),
                      "\(entry[0].debugDescription): got \(got.debugDescription), Python \(entry[1].debugDescription)")
        }
    }

    func testSplitAndContains() {
        XCTAssertEqual(PythonText.split(PythonText.scalars("  a\u{A0}b\tc \n")).map(PythonText.string), ["a", "b", "c"])
        XCTAssertTrue(PythonText.contains(PythonText.scalars("cafe\u{301}"), PythonText.scalars("cafe")))
        XCTAssertFalse(PythonText.contains(PythonText.scalars("caf\u{E9}"), PythonText.scalars("cafe")))
        XCTAssertTrue(PythonText.contains([], []))
    }
}
