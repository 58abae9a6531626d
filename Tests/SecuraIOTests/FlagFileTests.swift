// The `--config` TOML flag files: the arguments a valid file stands for, and one broken file per
// failure path, each error naming the file (and the line where there is one).

import Foundation
import SecuraIO
import XCTest

final class FlagFileTests: XCTestCase {
    func arguments(_ text: String) throws -> [String] {
        try FlagFile.arguments(Data(text.utf8), path: "run.toml")
    }

    func testValuesBecomeFlags() throws {
        let args = try arguments("""
            # a run
            model = "models/tiny"   # trailing comment
            lr = 1e-3
            steps = 1_000
            targets = ["q_proj", 'v_proj']
            skip_bad_lines = true
            recompute = false
            note = "a \\"quoted\\" # kept"
            """)
        XCTAssertEqual(args, ["--model", "models/tiny", "--lr", "1e-3", "--steps", "1000", "--targets", "q_proj,v_proj",
                              "--skip-bad-lines", "--no-recompute", "--note", "a \"quoted\" # kept"])
    }

    func assertSyntax(_ text: String, line: Int, mentions needle: String, file: StaticString = #filePath, lineNo: UInt = #line) {
        XCTAssertThrowsError(try arguments(text), file: file, line: lineNo) { error in
            guard case let ConfigFileError.syntax(path, at, _) = error else {
                return XCTFail("expected a syntax error, got \(error)", file: file, line: lineNo)
            }
            XCTAssertEqual(path, "run.toml", file: file, line: lineNo)
            XCTAssertEqual(at, line, file: file, line: lineNo)
            XCTAssertTrue("\(error)".contains("run.toml:\(line)"), "\(error)", file: file, line: lineNo)
            XCTAssertTrue("\(error)".contains(needle), "message lacks '\(needle)': \(error)", file: file, line: lineNo)
        }
    }

    /// A 200 KB value was echoed back whole; messages now quote its first 80 characters and its size.
    func testLongValuesAreCutInMessages() throws {
        let long = String(repeating: "x", count: 200_000)
        for text in ["lr = \(long)", "\(long)! = 1"] {
            XCTAssertThrowsError(try arguments(text)) { error in
                let message = "\(error)"
                XCTAssertLessThan(message.utf8.count, 200, String(message.prefix(300)))
                XCTAssert(message.contains(String(repeating: "x", count: 80) + "… (2000"), String(message.prefix(300)))
            }
        }
        // The argument parser's messages quote a rejected value whole: the CLI cuts the file's long values.
        let args = try arguments("method = \"\(long)\"\nlr = 1e-3")
        let echoed = FlagFile.shortenEchoes("The value '\(long)' is invalid for '--method'", of: args)
        XCTAssertEqual(echoed, "The value '\(String(repeating: "x", count: 80))… (200000 bytes)' is invalid for '--method'")
        XCTAssertEqual(FlagFile.excerpt("short"), "short")
    }

    func testEachSyntaxErrorNamesItsLine() {
        assertSyntax("lr = 1\n[train]", line: 2, mentions: "tables")
        assertSyntax("lr", line: 1, mentions: "key = value")
        assertSyntax("a b = 1", line: 1, mentions: "not a flag name")
        assertSyntax("lr = 1\nlr = 2", line: 2, mentions: "set twice")
        assertSyntax("x = { a = 1 }", line: 1, mentions: "inline tables")
        assertSyntax("x = 1979-05-27", line: 1, mentions: "not a string, number")
        assertSyntax("x = \"open", line: 1, mentions: "unterminated")
        assertSyntax("x = [\"a\", \"b", line: 1, mentions: "close on the same line")
        assertSyntax("x = \"\\q\"", line: 1, mentions: "unsupported escape")
    }

    func testBytesThatAreNotUTF8() {
        XCTAssertThrowsError(try FlagFile.arguments(Data([0x6c, 0x72, 0x3d, 0xff, 0xfe]), path: "run.toml")) { error in
            guard case ConfigFileError.unreadable = error else { return XCTFail("expected unreadable, got \(error)") }
            XCTAssertTrue("\(error)".contains("run.toml") && "\(error)".contains("UTF-8"), "\(error)")
        }
    }
}
