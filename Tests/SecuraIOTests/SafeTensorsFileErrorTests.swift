// One deliberately broken file per failure path of the safetensors loader. Each test checks the error
// case and that the one-line message names the file (and the tensor, where there is one).

import Foundation
import SecuraIO
import TestSupport
import XCTest

final class SafeTensorsFileErrorTests: XCTestCase {
    private var dir: TempDirectory!

    override func setUpWithError() throws {
        dir = try TempDirectory()
    }

    override func tearDown() {
        dir = nil
    }

    /// Writes a file from a header and data section and returns its path.
    private func broken(_ header: String, data: [UInt8] = [], declaredLength: UInt64? = nil,
                        name: String = "broken.safetensors") throws -> String {
        try dir.write(RawSafeTensors.file(header: header, data: data, declaredLength: declaredLength), to: name)
    }

    /// The bytes-level entry (tests, fuzzing) validates exactly as opening a file does.
    func testBytesEntryPoint() throws {
        let good = RawSafeTensors.file(header: RawSafeTensors.header(RawSafeTensors.entry("w", "F32", [2], 0, 8)),
                                       data: RawSafeTensors.f32Bytes([1, 2]))
        let file = try good.withUnsafeBytes { try SafeTensorsFile(bytes: $0, path: "memory.safetensors") }
        XCTAssertEqual(try file.floats("w"), [1, 2])
        let short: [UInt8] = [1, 0, 0]
        assertIOError(try short.withUnsafeBytes { try SafeTensorsFile(bytes: $0, path: "memory.safetensors") },
                      mentions: ["memory.safetensors"]) {
            if case .fileTooShort = $0 { true } else { false }
        }
    }

    func testMissingFile() {
        let path = dir.path("absent.safetensors")
        assertIOError(try SafeTensorsFile(path: path), mentions: [path, "not found"]) {
            if case .fileNotFound = $0 { true } else { false }
        }
    }

    func testDirectoryInsteadOfFile() throws {
        let path = try dir.makeFolder("model.safetensors")
        assertIOError(try SafeTensorsFile(path: path), mentions: [path, "directory"]) {
            if case .notARegularFile = $0 { true } else { false }
        }
    }

    func testEmptyFile() throws {
        let path = try dir.write([UInt8](), to: "empty.safetensors")
        assertIOError(try SafeTensorsFile(path: path), mentions: [path, "0 bytes"]) {
            if case .fileTooShort(_, 0, 8) = $0 { true } else { false }
        }
    }

    func testFileShorterThanLengthPrefix() throws {
        let path = try dir.write([1, 2, 3, 4, 5], to: "short.safetensors")
        assertIOError(try SafeTensorsFile(path: path), mentions: [path, "5 bytes"]) {
            if case .fileTooShort(_, 5, 8) = $0 { true } else { false }
        }
    }

    func testHeaderLengthPastEndOfFile() throws {
        let path = try broken("{}      ", declaredLength: 4096)
        assertIOError(try SafeTensorsFile(path: path), mentions: [path, "4096", "16-byte"]) {
            if case .headerPastEnd(_, 4096, 16) = $0 { true } else { false }
        }
    }

    func testAbsurdHeaderLength() throws {
        let path = try broken("{}      ", declaredLength: UInt64.max)
        assertIOError(try SafeTensorsFile(path: path), mentions: [path, String(UInt64.max)]) {
            if case .headerTooLarge = $0 { true } else { false }
        }
    }

    func testInvalidJSONHeader() throws {
        let path = try broken("{\"w\": {\"dtype\": \"F32\",, }}")
        let error = assertIOError(try SafeTensorsFile(path: path), mentions: [path, "JSON"]) {
            if case .invalidJSON = $0 { true } else { false }
        }
        if case let .invalidJSON(_, offset, _)? = error {
            XCTAssertEqual(offset, 8 + 22, "offset of the second comma, counted from the start of the file")
        }
    }

    func testHeaderNotUTF8() throws {
        let json: [UInt8] = Array("{\"w".utf8) + [0xFF, 0xFE] + Array("\":{}}   ".utf8)
        let path = try dir.write(RawSafeTensors.lengthPrefix(UInt64(json.count)) + json, to: "utf8.safetensors")
        assertIOError(try SafeTensorsFile(path: path), mentions: [path, "UTF-8"]) {
            if case .invalidJSON = $0 { true } else { false }
        }
    }

    func testDuplicateTensorName() throws {
        let entry = RawSafeTensors.entry("w", "F32", [1], 0, 4)
        let path = try broken(RawSafeTensors.header(entry, entry), data: RawSafeTensors.f32Bytes([1]))
        assertIOError(try SafeTensorsFile(path: path), mentions: [path, "duplicate key \"w\""]) {
            if case .invalidJSON = $0 { true } else { false }
        }
    }

    func testHeaderNotAnObject() throws {
        let path = try broken("[1, 2, 3]")
        assertIOError(try SafeTensorsFile(path: path), mentions: [path, "an array"]) {
            if case .invalidHeader = $0 { true } else { false }
        }
    }

    func testMetadataNotStrings() throws {
        let path = try broken("{\"__metadata__\":{\"epoch\":3}}")
        assertIOError(try SafeTensorsFile(path: path), mentions: [path, "__metadata__", "epoch"]) {
            if case .invalidHeader = $0 { true } else { false }
        }
    }

    func testEntryMissingField() throws {
        let path = try broken("{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", data: RawSafeTensors.f32Bytes([1]))
        assertIOError(try SafeTensorsFile(path: path), mentions: [path, "'w'", "data_offsets"]) {
            if case .invalidEntry(_, "w", _) = $0 { true } else { false }
        }
    }

    func testMalformedDataOffsets() throws {
        let path = try broken("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,-4]}}",
                              data: RawSafeTensors.f32Bytes([1]))
        assertIOError(try SafeTensorsFile(path: path), mentions: [path, "'w'", "[0,-4]"]) {
            if case .invalidEntry(_, "w", _) = $0 { true } else { false }
        }
    }

    func testDataOffsetsPastEndOfFile() throws {
        // A header promising 16 bytes over a data section truncated to 8.
        let name = "model.layers.0.mlp.up_proj.weight"
        let path = try broken(RawSafeTensors.header(RawSafeTensors.entry(name, "F32", [2, 2], 0, 16)),
                              data: RawSafeTensors.f32Bytes([1, 2]))
        assertIOError(try SafeTensorsFile(path: path), mentions: [path, "'\(name)'", "16", "8 bytes", "truncated"]) {
            if case .dataPastEnd(_, name, 16, 8) = $0 { true } else { false }
        }
    }

    func testBeginAfterEnd() throws {
        let path = try broken(RawSafeTensors.header(RawSafeTensors.entry("w", "F32", [1], 8, 4)),
                              data: RawSafeTensors.f32Bytes([1, 2, 3]))
        assertIOError(try SafeTensorsFile(path: path), mentions: [path, "'w'", "[8, 4]"]) {
            if case .offsetsReversed(_, "w", 8, 4) = $0 { true } else { false }
        }
    }

    func testSizeDiffersFromShapeTimesDType() throws {
        // BF16 [3, 2] needs 12 bytes; the offsets span 16.
        let path = try broken(RawSafeTensors.header(RawSafeTensors.entry("w", "BF16", [3, 2], 0, 16)),
                              data: Array(repeating: 0, count: 16))
        assertIOError(try SafeTensorsFile(path: path), mentions: [path, "'w'", "12 bytes", "16 bytes"]) {
            if case .sizeMismatch(_, "w", "BF16", [3, 2], 12, 16) = $0 { true } else { false }
        }
    }

    func testSizeCheckAlsoCoversUnsupportedDTypes() throws {
        let path = try broken(RawSafeTensors.header(RawSafeTensors.entry("ids", "I64", [3], 0, 16)),
                              data: Array(repeating: 0, count: 16))
        assertIOError(try SafeTensorsFile(path: path), mentions: [path, "'ids'", "24 bytes"]) {
            if case .sizeMismatch(_, "ids", "I64", [3], 24, 16) = $0 { true } else { false }
        }
    }

    func testNegativeDimension() throws {
        let path = try broken(RawSafeTensors.header(RawSafeTensors.entry("w", "F32", [4, -1], 0, 0)))
        assertIOError(try SafeTensorsFile(path: path), mentions: [path, "'w'", "negative"]) {
            if case .invalidShape(_, "w", _) = $0 { true } else { false }
        }
    }

    func testShapeWhoseElementCountOverflows() throws {
        let huge = 1 << 40
        let path = try broken(RawSafeTensors.header(RawSafeTensors.entry("w", "F32", [huge, huge], 0, 0)))
        assertIOError(try SafeTensorsFile(path: path), mentions: [path, "'w'", "overflows"]) {
            if case .invalidShape(_, "w", _) = $0 { true } else { false }
        }
    }

    func testShapeLargerThanAnyFileByteCount() throws {
        // 2^61 elements fit in Int, but 2^61 × 32 bits do not.
        let path = try broken(RawSafeTensors.header(RawSafeTensors.entry("w", "F32", [1 << 61], 0, 0)))
        assertIOError(try SafeTensorsFile(path: path), mentions: [path, "'w'", "too large"]) {
            if case .invalidShape(_, "w", _) = $0 { true } else { false }
        }
    }

    func testShapeBeyondSixtyFourBits() throws {
        let path = try broken("{\"w\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,0]}}")
        assertIOError(try SafeTensorsFile(path: path), mentions: [path, "'w'", "not an integer"]) {
            if case .invalidShape(_, "w", _) = $0 { true } else { false }
        }
    }

    func testFractionalDimension() throws {
        let path = try broken("{\"w\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,0]}}")
        assertIOError(try SafeTensorsFile(path: path), mentions: [path, "'w'", "1.5"]) {
            if case .invalidShape(_, "w", _) = $0 { true } else { false }
        }
    }

    func testUnknownDTypeFailsOnlyWhenRequested() throws {
        let header = RawSafeTensors.header(RawSafeTensors.entry("fp8", "F8_E4M3", [4], 0, 4),
                                           RawSafeTensors.entry("ids", "I64", [1], 4, 12),
                                           RawSafeTensors.entry("odd", "Q4_WEIRD", [3], 12, 15),
                                           RawSafeTensors.entry("w", "F32", [1], 16, 20))
        let path = try broken(header, data: Array(repeating: 0, count: 16) + RawSafeTensors.f32Bytes([2]))
        let file = try SafeTensorsFile(path: path)
        XCTAssertEqual(file.names, ["fp8", "ids", "odd", "w"])
        XCTAssertEqual(file.entry("odd")?.dtypeName, "Q4_WEIRD")
        XCTAssertEqual(file.entry("fp8")?.shape, [4])
        XCTAssertEqual(try file.floats("w"), [2])
        for (name, dtype) in [("fp8", "F8_E4M3"), ("ids", "I64"), ("odd", "Q4_WEIRD")] {
            assertIOError(try file.view(name), mentions: [path, "'\(name)'", dtype, "F32, F16, BF16"]) {
                if case .unsupportedDType(_, name, dtype) = $0 { true } else { false }
            }
        }
    }

    func testUnknownTensorName() throws {
        let path = try broken(RawSafeTensors.header(RawSafeTensors.entry("w", "F32", [1], 0, 4)),
                              data: RawSafeTensors.f32Bytes([1]))
        let file = try SafeTensorsFile(path: path)
        assertIOError(try file.view("lm_head.weight"), mentions: [path, "'lm_head.weight'"]) {
            if case .tensorNotFound(_, "lm_head.weight") = $0 { true } else { false }
        }
    }
}
