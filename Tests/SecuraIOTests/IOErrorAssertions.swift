// Asserts that an operation fails with a particular IOError whose one-line message names what the user
// needs to see (the file, the tensor).

import SecuraIO
import XCTest

/// Asserts `body` throws an `IOError` for which `matches` is true, whose description is one line and
/// contains every string in `mentions`. Returns the error for further checks.
@discardableResult
func assertIOError<T>(_ body: @autoclosure () throws -> T, mentions: [String],
                      file: StaticString = #filePath, line: UInt = #line,
                      _ matches: (IOError) -> Bool) -> IOError? {
    do {
        _ = try body()
        XCTFail("expected an IOError, but the call succeeded", file: file, line: line)
        return nil
    } catch let error as IOError {
        XCTAssertTrue(matches(error), "unexpected IOError case: \(error)", file: file, line: line)
        let message = error.description
        XCTAssertFalse(message.contains("\n"), "message is not one line: \(message)", file: file, line: line)
        for needle in mentions {
            XCTAssertTrue(message.contains(needle), "message does not mention \(needle): \(message)",
                          file: file, line: line)
        }
        return error
    } catch {
        XCTFail("expected an IOError, got \(type(of: error)): \(error)", file: file, line: line)
        return nil
    }
}
