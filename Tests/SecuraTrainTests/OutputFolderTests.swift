// The output folder check that runs before training: refused with the folder named when it cannot be
// created or written, accepted (leaving nothing behind but the folders) when it can. A read-only mount,
// which root cannot write either, is covered by launch/test-faults.sh.
import Foundation
import XCTest
import TestSupport
@testable import SecuraTrain

final class OutputFolderTests: XCTestCase {
    func refusal(_ folder: String) -> String? {
        do {
            try OutputFolder.ensureWritable(URL(fileURLWithPath: folder))
            return nil
        } catch let error as CheckpointError {
            guard case .outputNotWritable = error else { return "wrong case: \(error)" }
            return "\(error)"
        } catch { return "wrong error type: \(error)" }
    }

    func testAWritableFolderIsPreparedAndLeftClean() throws {
        let dir = try TempDirectory()
        XCTAssertNil(refusal(dir.path("run/out")))
        XCTAssertEqual(try dir.contents(of: "run/out"), ["checkpoints"], "no probe file is left behind")
        XCTAssertEqual(try dir.contents(of: "run/out/checkpoints"), [])
    }

    func testAPathUnderAFileIsRefusedWithTheFolderNamed() throws {
        let dir = try TempDirectory()
        try dir.write("x", to: "file")
        let message = try XCTUnwrap(refusal(dir.path("file/out")))
        XCTAssertTrue(message.hasPrefix(dir.path("file/out") + ": the output folder is not writable"), message)
    }

    func testACheckpointsEntryThatIsAFileIsRefused() throws {
        let dir = try TempDirectory()
        try dir.makeFolder("out")
        try dir.write("x", to: "out/checkpoints")
        let message = try XCTUnwrap(refusal(dir.path("out")))
        XCTAssertTrue(message.hasPrefix(dir.path("out/checkpoints") + ":"), message)
    }

    func testAReadOnlyFolderIsRefused() throws {
        try XCTSkipIf(getuid() == 0, "root ignores folder permissions (launch/test-faults.sh uses a read-only mount)")
        let dir = try TempDirectory()
        let out = try dir.makeFolder("out")
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: out)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: out) }
        let message = try XCTUnwrap(refusal(out))
        XCTAssertTrue(message.contains("not writable"), message)
    }
}
