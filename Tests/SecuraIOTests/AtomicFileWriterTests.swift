// AtomicFileWriter: the file appears whole on commit, and the folder holding it is synced so that the
// rename survives a power loss; syncing a folder that is not there is an I/O error naming it.
import Foundation
import SecuraErrors
import SecuraIO
import TestSupport
import XCTest

final class AtomicFileWriterTests: XCTestCase {
    func testCommitWritesTheFileAndSyncsItsFolder() throws {
        let dir = try TempDirectory()
        let writer = try AtomicFileWriter(path: dir.path("a.bin"))
        try writer.write([UInt8](repeating: 7, count: 10))
        try writer.commit()
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: dir.path("a.bin"))), Data(repeating: 7, count: 10))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["a.bin"], "no temporary file left")
        XCTAssertNoThrow(try AtomicFileWriter.syncFolder(dir.path))
    }

    func testSyncingAMissingFolderIsAnIOErrorNamingIt() throws {
        let dir = try TempDirectory()
        let missing = dir.path("gone")
        XCTAssertThrowsError(try AtomicFileWriter.syncFolder(missing)) { error in
            XCTAssertEqual(error as? IOError, .cannotWrite(path: missing, reason: "cannot open the folder to sync it: No such file or directory"))
            XCTAssertEqual((error as? CategorizedError)?.category, .io)
        }
        // A file is not a folder either.
        try Data([1]).write(to: URL(fileURLWithPath: dir.path("file")))
        XCTAssertThrowsError(try AtomicFileWriter.syncFolder(dir.path("file"))) { XCTAssert("\($0)".contains(dir.path("file")), "\($0)") }
    }
}
