// The writer's failure paths: inconsistent tensors are refused when added, and a failed write (missing
// or unwritable folder, failing producer) leaves neither a partial file nor a temporary file behind.

import Foundation
import SecuraIO
import SecuraTensor
import TestSupport
import XCTest

final class SafeTensorsWriterErrorTests: XCTestCase {
    private struct ProducerFailure: Error {}

    func testInconsistentTensorsAreRefused() throws {
        let path = "/tmp/unused.safetensors"
        var writer = SafeTensorsWriter(path: path)
        try writer.add("w", floats: [1, 2], shape: [2])
        assertIOError(try writer.add("w", floats: [1], shape: [1]), mentions: [path, "'w'", "already"]) {
            if case .invalidTensorToWrite(_, "w", _) = $0 { true } else { false }
        }
        assertIOError(try writer.add("x", floats: [1, 2, 3], shape: [2, 2]),
                      mentions: [path, "'x'", "4 elements", "3 values"]) {
            if case .invalidTensorToWrite(_, "x", _) = $0 { true } else { false }
        }
        assertIOError(try writer.add("y", dtype: .bf16, shape: [3], bytes: [0, 0]), mentions: [path, "'y'"]) {
            if case .invalidTensorToWrite(_, "y", _) = $0 { true } else { false }
        }
        assertIOError(try writer.add("z", floats: [], shape: [-1]), mentions: [path, "'z'", "negative"]) {
            if case .invalidTensorToWrite(_, "z", _) = $0 { true } else { false }
        }
        assertIOError(try writer.add("__metadata__", floats: [1], shape: [1]), mentions: [path, "reserved"]) {
            if case .invalidTensorToWrite = $0 { true } else { false }
        }
        assertIOError(try writer.add("q", dtypeName: "Q4_0", shape: [1], bytes: [0]), mentions: [path, "Q4_0"]) {
            if case .invalidTensorToWrite(_, "q", _) = $0 { true } else { false }
        }
        XCTAssertEqual(writer.names, ["w"])
    }

    func testInvalidLazyTensorsAreRefusedWhenAdded() throws {
        let path = "/tmp/unused.safetensors"
        var writer = SafeTensorsWriter(path: path)
        let fill: (Range<Int>, UnsafeMutableBufferPointer<Float>) throws -> Void = { _, _ in }
        try writer.add("w", shape: [2], streaming: fill)
        assertIOError(try writer.add("w", shape: [1], streaming: fill), mentions: [path, "'w'", "already"]) {
            if case .invalidTensorToWrite(_, "w", _) = $0 { true } else { false }
        }
        assertIOError(try writer.add("", shape: [1], streaming: fill), mentions: [path, "empty"]) {
            if case .invalidTensorToWrite(_, "", _) = $0 { true } else { false }
        }
        assertIOError(try writer.add("n", shape: [2, -1], streaming: fill), mentions: [path, "'n'", "negative"]) {
            if case .invalidTensorToWrite(_, "n", _) = $0 { true } else { false }
        }
        assertIOError(try writer.add("o", shape: [1 << 40, 1 << 40], streaming: fill), mentions: [path, "'o'", "overflows"]) {
            if case .invalidTensorToWrite(_, "o", _) = $0 { true } else { false }
        }
        // 2^62 elements fit an Int, their fp32 bytes do not.
        assertIOError(try writer.add("p", shape: [1 << 61, 2], as: .f32, streaming: fill), mentions: [path, "'p'", "overflows"]) {
            if case .invalidTensorToWrite(_, "p", _) = $0 { true } else { false }
        }
        assertIOError(try writer.add("q", shape: [1 << 61, 2], as: .bf16) { [] }, mentions: [path, "'q'", "overflows"]) {
            if case .invalidTensorToWrite(_, "q", _) = $0 { true } else { false }
        }
        XCTAssertEqual(writer.names, ["w"])
    }

    func testMissingFolder() throws {
        let dir = try TempDirectory()
        let path = dir.path("no-such-folder/model.safetensors")
        var writer = SafeTensorsWriter(path: path)
        try writer.add("w", floats: [1], shape: [1])
        assertIOError(try writer.write(), mentions: [path, "does not exist"]) {
            if case .cannotWrite = $0 { true } else { false }
        }
    }

    func testUnwritableFolder() throws {
        let dir = try TempDirectory()
        // A regular file used as a folder cannot be written into, even by root.
        try dir.write([0], to: "not-a-folder")
        let path = dir.path("not-a-folder/model.safetensors")
        var writer = SafeTensorsWriter(path: path)
        try writer.add("w", floats: [1], shape: [1])
        assertIOError(try writer.write(), mentions: [path, "is not a folder"]) {
            if case .cannotWrite = $0 { true } else { false }
        }
    }

    func testReadOnlyFolderWhenNotRoot() throws {
        try XCTSkipIf(getuid() == 0, "root ignores folder permissions")
        let dir = try TempDirectory()
        let folder = try dir.makeFolder("ro")
        chmod(folder, 0o555)
        defer { chmod(folder, 0o755) }
        let path = folder + "/model.safetensors"
        var writer = SafeTensorsWriter(path: path)
        try writer.add("w", floats: [1], shape: [1])
        assertIOError(try writer.write(), mentions: [path, "Permission denied"]) {
            if case .cannotWrite = $0 { true } else { false }
        }
    }

    func testFailedWriteKeepsPreviousFileAndLeavesNoTemporaryFile() throws {
        let dir = try TempDirectory()
        let path = dir.path("model.safetensors")
        var good = SafeTensorsWriter(path: path)
        try good.add("w", floats: [1, 2], shape: [2])
        try good.write()

        var bad = SafeTensorsWriter(path: path)
        try bad.add("a", floats: [3], shape: [1])
        try bad.add("z", shape: [1]) { throw ProducerFailure() }
        XCTAssertThrowsError(try bad.write()) { XCTAssertTrue($0 is ProducerFailure) }

        for produced: [Float] in [[1], [1, 2, 3]] {
            var wrongCount = SafeTensorsWriter(path: path)
            try wrongCount.add("m", shape: [2]) { produced }
            assertIOError(try wrongCount.write(), mentions: [path, "'m'", "\(produced.count) values"]) {
                if case .invalidTensorToWrite(_, "m", _) = $0 { true } else { false }
            }
        }

        XCTAssertEqual(try dir.contents(), ["model.safetensors"])
        XCTAssertEqual(try SafeTensorsFile(path: path).floats("w"), [1, 2])
    }

    func testSuccessfulWriteReplacesFileAndLeavesNoTemporaryFile() throws {
        let dir = try TempDirectory()
        let path = dir.path("model.safetensors")
        for value: Float in [1, 2] {
            var writer = SafeTensorsWriter(path: path)
            try writer.add("w", floats: [value], shape: [1])
            try writer.write()
        }
        XCTAssertEqual(try dir.contents(), ["model.safetensors"])
        XCTAssertEqual(try SafeTensorsFile(path: path).floats("w"), [2])
    }
}
