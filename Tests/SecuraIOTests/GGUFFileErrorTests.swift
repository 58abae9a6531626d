// One deliberately broken GGUF file per failure path of the reader; each error must be the expected
// case and its one-line message must name the file (and the key or tensor where there is one).

import Foundation
import SecuraIO
import TestSupport
import XCTest

final class GGUFFileErrorTests: XCTestCase {
    var dir: TempDirectory!

    override func setUpWithError() throws { dir = try TempDirectory(prefix: "gguf-errors") }
    override func tearDown() { dir = nil }

    /// Writes `bytes`, opens it, and asserts a GGUFError matching `matches` whose message names the file
    /// and every string in `mentions`.
    @discardableResult
    func assertRejected(_ bytes: [UInt8], mentions: [String] = [], file: StaticString = #filePath, line: UInt = #line,
                        _ matches: (GGUFError) -> Bool) throws -> GGUFError? {
        let path = try dir.write(bytes, to: "broken.gguf")
        do {
            _ = try GGUFFile(path: path)
            XCTFail("expected a GGUFError, but the file opened", file: file, line: line)
            return nil
        } catch let error as GGUFError {
            XCTAssertTrue(matches(error), "unexpected GGUFError case: \(error)", file: file, line: line)
            let message = error.description
            XCTAssertFalse(message.contains("\n"), "message is not one line: \(message)", file: file, line: line)
            for needle in [path] + mentions {
                XCTAssertTrue(message.contains(needle), "message does not mention \(needle): \(message)", file: file, line: line)
            }
            return error
        }
    }

    func testValidMinimalFileOpens() throws {
        let path = try dir.write(GGUFRawFile.valid().bytes(), to: "ok.gguf")
        let f = try GGUFFile(path: path)
        XCTAssertEqual(try f.floats("w"), [1, 2, 3, 4])
    }

    /// The bytes-level entry (tests, fuzzing) validates exactly as opening a file does.
    func testBytesEntryPointMatchesTheFile() throws {
        let good = GGUFRawFile.valid().bytes()
        let f = try good.withUnsafeBytes { try GGUFFile(bytes: $0, path: "memory.gguf") }
        XCTAssertEqual(f.path, "memory.gguf")
        XCTAssertEqual(try f.floats("w"), [1, 2, 3, 4])
        var bad = GGUFRawFile.valid()
        bad.magic = Array("GGML".utf8)
        XCTAssertThrowsError(try bad.bytes().withUnsafeBytes { try GGUFFile(bytes: $0, path: "memory.gguf") }) { error in
            guard case GGUFError.badMagic = error else { return XCTFail("expected badMagic, got \(error)") }
            XCTAssertTrue("\(error)".contains("memory.gguf"), "\(error)")
        }
    }

    func testFileShorterThanHeader() throws {
        try assertRejected(Array("GGUF".utf8) + [3, 0], mentions: ["6 bytes"]) {
            if case .fileTooShort = $0 { return true }; return false
        }
    }

    func testBadMagic() throws {
        var f = GGUFRawFile.valid()
        f.magic = Array("GGML".utf8)
        try assertRejected(f.bytes(), mentions: ["\"GGUF\"", "\"GGML\""]) {
            if case .badMagic = $0 { return true }; return false
        }
    }

    func testUnsupportedVersions() throws {
        var f = GGUFRawFile.valid()
        f.version = 1
        try assertRejected(f.bytes(), mentions: ["version 1"]) {
            if case .unsupportedVersion(_, 1, false) = $0 { return true }; return false
        }
        f.version = UInt32(3).byteSwapped
        try assertRejected(f.bytes(), mentions: ["big-endian"]) {
            if case .unsupportedVersion(_, _, true) = $0 { return true }; return false
        }
    }

    func testVersion2Opens() throws {
        var f = GGUFRawFile.valid()
        f.version = 2
        let path = try dir.write(f.bytes(), to: "v2.gguf")
        XCTAssertEqual(try GGUFFile(path: path).version, 2)
    }

    func testTruncatedInMetadata() throws {
        var f = GGUFRawFile.valid()
        f.add("general.name", GGUFRawFile.str("a model name"))
        let bytes = f.bytes()
        let cut = 24 + GGUFRawFile.string("general.architecture").count + GGUFRawFile.str("llama").count
            + GGUFRawFile.string("general.name").count + 4 + 8 + 3  // inside the name's text
        try assertRejected(Array(bytes[..<cut]), mentions: ["truncated", "general.name"]) {
            if case .truncated = $0 { return true }; return false
        }
    }

    func testTruncatedTensorInfo() throws {
        let f = GGUFRawFile.valid()
        let layout = f.layout()
        let cut = layout.tensorInfoOffsets[0] + GGUFRawFile.string("w").count + 4 + 3  // inside dimension 0
        try assertRejected(Array(layout.bytes[..<cut]), mentions: ["truncated", "dimension 0 of tensor 'w'"]) {
            if case .truncated = $0 { return true }; return false
        }
    }

    func testTensorDataPastEnd() throws {
        let bytes = GGUFRawFile.valid().bytes()
        try assertRejected(Array(bytes.dropLast(4)), mentions: ["'w'", "truncated"]) {
            if case .tensorDataPastEnd = $0 { return true }; return false
        }
    }

    func testUnknownTensorType() throws {
        var f = GGUFRawFile.valid()
        f.tensors[0].type = 99
        try assertRejected(f.bytes(), mentions: ["'w'", "unknown ggml type 99"]) {
            if case .unknownTensorType = $0 { return true }; return false
        }
    }

    func testAbsurdCounts() throws {
        var f = GGUFRawFile.valid()
        f.tensorCount = 1 << 60
        try assertRejected(f.bytes(), mentions: ["tensor count 1152921504606846976", "byte 8"]) {
            if case .absurdCount = $0 { return true }; return false
        }
        f = GGUFRawFile.valid()
        f.kvCount = UInt64.max
        try assertRejected(f.bytes(), mentions: ["key-value count", "byte 16"]) {
            if case .absurdCount = $0 { return true }; return false
        }
        f = GGUFRawFile.valid()
        f.add("tokenizer.ggml.tokens", GGUFRawFile.type(.array) + GGUFRawFile.type(.string) + GGUFRawFile.le(UInt64(1) << 40))
        try assertRejected(f.bytes(), mentions: ["tokenizer.ggml.tokens", "1099511627776"]) {
            if case .absurdCount = $0 { return true }; return false
        }
    }

    func testAbsurdStringLength() throws {
        var f = GGUFRawFile.valid()
        f.add("general.name", GGUFRawFile.type(.string) + GGUFRawFile.le(UInt64.max) + Array("x".utf8))
        try assertRejected(f.bytes(), mentions: ["general.name", "truncated"]) {
            if case .truncated = $0 { return true }; return false
        }
    }

    func testMisalignedTensorOffset() throws {
        var f = GGUFRawFile.valid()
        f.addF32("second", dims: [2], values: [5, 6])
        f.tensors[1].offset = 40  // not a multiple of 32
        try assertRejected(f.bytes(), mentions: ["'second'", "offset 40", "alignment 32"]) {
            if case .misalignedTensor = $0 { return true }; return false
        }
    }

    func testInvalidAlignment() throws {
        var f = GGUFRawFile.valid()
        f.add("general.alignment", GGUFRawFile.u32(24))
        try assertRejected(f.bytes(), mentions: ["general.alignment", "24"]) {
            if case .invalidAlignment = $0 { return true }; return false
        }
        f = GGUFRawFile.valid()
        f.add("general.alignment", GGUFRawFile.str("32"))
        try assertRejected(f.bytes(), mentions: ["general.alignment", "STRING"]) {
            if case .invalidAlignment = $0 { return true }; return false
        }
    }

    func testCustomAlignmentIsHonoured() throws {
        var f = GGUFRawFile.valid()
        f.alignment = 64
        f.add("general.alignment", GGUFRawFile.u32(64))
        f.addF32("second", dims: [2], values: [5, 6])
        let path = try dir.write(f.bytes(), to: "aligned.gguf")
        let file = try GGUFFile(path: path)
        XCTAssertEqual(file.alignment, 64)
        XCTAssertEqual(file.dataStart % 64, 0)
        XCTAssertEqual(file.tensor("second")?.offset, 64)
        XCTAssertEqual(try file.floats("second"), [5, 6])
    }

    func testRowNotWholeBlocks() throws {
        var f = GGUFRawFile.valid()
        f.addTensor("q", dims: [40, 2], type: .q8_0, data: [UInt8](repeating: 0, count: 68))
        try assertRejected(f.bytes(), mentions: ["'q'", "Q8_0", "40", "32"]) {
            if case .partialBlock = $0 { return true }; return false
        }
    }

    func testTooManyDimensions() throws {
        var f = GGUFRawFile.valid()
        f.tensors[0].dims = [1, 1, 1, 1, 4]
        try assertRejected(f.bytes(), mentions: ["'w'", "5 dimensions"]) {
            if case .invalidTensorInfo = $0 { return true }; return false
        }
    }

    func testOverflowingDimensions() throws {
        var f = GGUFRawFile.valid()
        f.tensors[0].dims = [1 << 40, 1 << 40]
        try assertRejected(f.bytes(), mentions: ["'w'", "overflow"]) {
            if case .invalidTensorInfo = $0 { return true }; return false
        }
    }

    func testDuplicatesAndBadValues() throws {
        var f = GGUFRawFile.valid()
        f.add("general.architecture", GGUFRawFile.str("qwen2"))
        try assertRejected(f.bytes(), mentions: ["general.architecture", "twice"]) {
            if case .duplicateKey = $0 { return true }; return false
        }
        f = GGUFRawFile.valid()
        f.addF32("w", dims: [1], values: [0])
        try assertRejected(f.bytes(), mentions: ["'w'", "twice"]) {
            if case .duplicateTensor = $0 { return true }; return false
        }
        f = GGUFRawFile.valid()
        f.add("x.flag", GGUFRawFile.bool(2))
        try assertRejected(f.bytes(), mentions: ["x.flag", "bool"]) {
            if case .invalidValue = $0 { return true }; return false
        }
        f = GGUFRawFile.valid()
        f.add("x.odd", GGUFRawFile.le(UInt32(13)) + [0])
        try assertRejected(f.bytes(), mentions: ["x.odd", "unknown value type 13"]) {
            if case .unknownValueType = $0 { return true }; return false
        }
        f = GGUFRawFile.valid()
        f.add("x.text", GGUFRawFile.type(.string) + GGUFRawFile.le(UInt64(2)) + [0xC3, 0x28])
        try assertRejected(f.bytes(), mentions: ["x.text", "UTF-8"]) {
            if case .invalidUTF8 = $0 { return true }; return false
        }
    }

    func testOverlappingTensors() throws {
        var f = GGUFRawFile.valid()
        f.addF32("second", dims: [4], values: [5, 6, 7, 8])
        f.tensors[1].offset = 0
        f.tensors[1].data = []  // shares the first tensor's bytes
        try assertRejected(f.bytes(), mentions: ["overlaps", "'w'"]) {
            if case .overlappingTensors = $0 { return true }; return false
        }
    }

    func testWrongTypeAndUnsupportedTensorAreErrorsNamingTheFile() throws {
        var f = GGUFRawFile.valid()
        f.add("llama.block_count", GGUFRawFile.str("thirty"))
        f.addTensor("k", dims: [256], type: .q5_K, data: [UInt8](repeating: 0, count: GGMLType.q5_K.bytesPerBlock))
        let path = try dir.write(f.bytes(), to: "types.gguf")
        let file = try GGUFFile(path: path)
        XCTAssertThrowsError(try file.int("llama.block_count")) { error in
            XCTAssertEqual(error as? GGUFError, .wrongValueType(path: path, key: "llama.block_count",
                                                                 expected: "an integer", found: "STRING"))
            XCTAssertTrue("\(error)".contains(path))
        }
        XCTAssertNil(try file.int("llama.missing"))
        XCTAssertThrowsError(try file.floats("k")) { error in
            guard case .unsupportedTensorType(path, "k", "Q5_K", _)? = error as? GGUFError else {
                return XCTFail("unexpected \(error)")
            }
            XCTAssertTrue("\(error)".contains("Q4_K"))
        }
        XCTAssertThrowsError(try file.floats("absent")) { error in
            XCTAssertEqual(error as? GGUFError, .tensorNotFound(path: path, tensor: "absent"))
        }
    }
}
