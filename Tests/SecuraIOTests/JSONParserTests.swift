// The JSON parser's error positions and `diagnose`, which readers decoding with Foundation use to say
// where a document is broken: line, column, byte and key, and numbers that do not fit.
import SecuraIO
import XCTest

final class JSONParserTests: XCTestCase {
    private func diagnose(_ text: String) -> JSONParseError? { JSONParser.diagnose(Array(text.utf8)) }

    func testSyntaxErrorHasLineColumnAndKey() throws {
        let problem = try XCTUnwrap(diagnose("{\n  \"a\": 1,\n  \"b\": [1, ,]\n}"))
        XCTAssertEqual(problem.line, 3)
        XCTAssertEqual(problem.column, 12)
        XCTAssertEqual(problem.key, "b[1]")
        XCTAssert(problem.description.hasPrefix("line 3, column 12 (byte 23), key 'b[1]': unexpected ','"), problem.description)
    }

    func testWholeNumberBeyondInt64IsOutOfRange() throws {
        let problem = try XCTUnwrap(diagnose("{\"config\": {\"n\": 18446744073709551615}}"))
        XCTAssertEqual(problem.key, "config.n")
        XCTAssertEqual(problem.offset, 17)
        XCTAssert(problem.description.contains("18446744073709551615 is out of range"), problem.description)
        let huge = try XCTUnwrap(diagnose("[1e999]"))
        XCTAssertEqual(huge.key, "[0]")
        XCTAssert(huge.description.contains("1e999 is out of range of a 64-bit float"), huge.description)
        // Long numbers are cut in the message.
        let long = try XCTUnwrap(diagnose(String(repeating: "9", count: 5000)))
        XCTAssertLessThan(long.description.count, 200, long.description)
    }

    func testValidDocumentsHaveNoProblem() {
        XCTAssertNil(diagnose("{\"a\": [1, -9223372036854775808, 9223372036854775807, 1.5e300, \"x\"], \"b\": null}"))
        // The plain parser still takes integers beyond Int (as doubles) for its callers to range-check.
        XCTAssertNoThrow(try Array("[18446744073709551615]".utf8).withUnsafeBytes { try JSONParser.parse($0) })
    }
}
