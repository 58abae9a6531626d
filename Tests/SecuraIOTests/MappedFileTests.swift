// The memory mapping under every loader: contents, empty files, and clear errors for paths that are
// not readable files.

import Foundation
import SecuraIO
import TestSupport
import XCTest

final class MappedFileTests: XCTestCase {
    func testMapsContents() throws {
        let dir = try TempDirectory()
        let path = try dir.write([1, 2, 3, 250], to: "f.bin")
        let file = try MappedFile(path: path)
        XCTAssertEqual(file.size, 4)
        XCTAssertEqual(Array(file.bytes), [1, 2, 3, 250])
    }

    func testCopyingHoldsTheBytesAndName() {
        let source: [UInt8] = [9, 8, 7]
        let copy = source.withUnsafeBytes { MappedFile(copying: $0, path: "in-memory.bin") }
        XCTAssertEqual(copy.path, "in-memory.bin")
        XCTAssertEqual(Array(copy.bytes), source)
        copy.releaseResidentPages()   // no mapping: must leave the copy intact
        XCTAssertEqual(Array(copy.bytes), source)
        let empty = [UInt8]().withUnsafeBytes { MappedFile(copying: $0, path: "empty.bin") }
        XCTAssertEqual(empty.size, 0)
        XCTAssertEqual(empty.bytes.count, 0)
    }

    func testZeroLengthFile() throws {
        let dir = try TempDirectory()
        let path = try dir.write([UInt8](), to: "empty.bin")
        let file = try MappedFile(path: path)
        XCTAssertEqual(file.size, 0)
        XCTAssertEqual(file.bytes.count, 0)
    }

    func testDirectory() throws {
        let dir = try TempDirectory()
        assertIOError(try MappedFile(path: dir.path), mentions: [dir.path, "directory"]) {
            if case .notARegularFile = $0 { true } else { false }
        }
    }

    func testMissingPathAndMissingParent() throws {
        let dir = try TempDirectory()
        for path in [dir.path("nope.bin"), dir.path("nope/deeper.bin")] {
            assertIOError(try MappedFile(path: path), mentions: [path]) {
                if case .fileNotFound = $0 { true } else { false }
            }
        }
    }
}
