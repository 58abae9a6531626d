// The GGUF writer, checked by reading its files back with the GGUF reader: every metadata value type,
// tensor infos, alignment, F32/F16/BF16 bit for bit against the conversions, Q8_0 within its
// quantisation error and byte for byte equal to gguf-py's quantiser on the committed fixture; and the
// writer's refusals.

import Foundation
import SecuraIO
import TestSupport
import XCTest

final class GGUFWriterTests: XCTestCase {
    /// Deterministic values in about [-2, 2], with a few exact zeros and a whole zero Q8_0 block.
    static func values(_ count: Int, seed: UInt64) -> [Float] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { i in i % 97 == 5 || (64..<96).contains(i) ? 0 : rng.normal() }
    }

    static let everyType: [(String, GGUFValue)] = [
        ("general.architecture", .string("writer-test")),
        ("t.u8", .uint8(200)), ("t.i8", .int8(-5)), ("t.u16", .uint16(60000)), ("t.i16", .int16(-30000)),
        ("t.u32", .uint32(4_000_000_000)), ("t.i32", .int32(-2_000_000_000)), ("t.u64", .uint64((1 << 63) + 5)),
        ("t.i64", .int64(-(1 << 62))), ("t.f32", .float32(1e-5)), ("t.f64", .float64(-2.25e-300)), ("t.bool", .bool(false)),
        ("t.string", .string("héllo ✓ GGUF")), ("t.empty", .array(elementType: .string, values: [])),
        ("t.strings", .array(elementType: .string, values: [.string("a b"), .string(""), .string("Ġx")])),
        ("t.nested", .array(elementType: .array, values: [.array(elementType: .int32, values: [.int32(1), .int32(-2)]),
                                                          .array(elementType: .float32, values: [.float32(0.5)])])),
    ]

    func testRoundTripOfMetadataAndEveryWritableType() throws {
        for alignment in [32, 64] {
            let dir = try TempDirectory()
            let path = dir.path("t.gguf")
            var w = GGUFWriter(path: path, alignment: alignment)
            for (key, value) in Self.everyType { w.set(key, value) }
            w.set("t.u8", .uint8(201))   // set again: new value, first position
            let matrix = Self.values(5 * 96, seed: 1)
            let norm = Self.values(7, seed: 2)
            w.chunkElements = 100        // several chunks per tensor, rows never split
            try w.add("m.f32", floats: matrix, shape: [5, 96], type: .f32)
            try w.add("m.f16", floats: matrix, shape: [5, 96], type: .f16)
            try w.add("m.bf16", floats: matrix, shape: [5, 96], type: .bf16)
            try w.add("m.q8_0", floats: matrix, shape: [5, 96], type: .q8_0)
            try w.add("norm", floats: norm, shape: [7], type: .f32)
            try w.add("m.3d", floats: matrix, shape: [2, 5, 48], type: .f16)
            var reported: [String] = []
            w.afterEachTensor = { name, _ in reported.append(name) }
            try w.write()
            XCTAssertEqual(reported, ["m.f32", "m.f16", "m.bf16", "m.q8_0", "norm", "m.3d"])

            let f = try GGUFFile(path: path)
            XCTAssertEqual(f.version, 3)
            XCTAssertEqual(f.alignment, alignment)
            let expectedKeys = (alignment == 32 ? [] : ["general.alignment"]) + Self.everyType.map(\.0)
            XCTAssertEqual(f.metadataKeys, expectedKeys)
            for (key, value) in Self.everyType {
                XCTAssertEqual(f.value(key), key == "t.u8" ? .uint8(201) : value, key)
            }
            XCTAssertEqual(f.dataStart % alignment, 0)
            for t in f.tensors { XCTAssertEqual(t.offset % alignment, 0, t.name) }
            XCTAssertEqual(f.tensors.map(\.name), ["m.f32", "m.f16", "m.bf16", "m.q8_0", "norm", "m.3d"])
            XCTAssertEqual(f.tensor("m.q8_0")?.dimensions, [96, 5])
            XCTAssertEqual(f.tensor("m.3d")?.shape, [2, 5, 48])
            XCTAssertEqual(f.tensor("m.q8_0")?.byteCount, 5 * 3 * 34)

            XCTAssertEqual(try f.floats("m.f32").map(\.bitPattern), matrix.map(\.bitPattern))
            XCTAssertEqual(try f.floats("norm"), norm)
            let f16 = matrix.map { DTypeConversion.halfToFloat(DTypeConversion.floatToHalf($0)) }
            XCTAssertEqual(try f.floats("m.f16").map(\.bitPattern), f16.map(\.bitPattern))
            XCTAssertEqual(try f.floats("m.3d").map(\.bitPattern), f16.map(\.bitPattern))
            let bf16 = matrix.map { Float(bitPattern: UInt32(DTypeConversion.floatToBF16($0)) << 16) }
            XCTAssertEqual(try f.floats("m.bf16").map(\.bitPattern), bf16.map(\.bitPattern))

            // Q8_0: each value within half a step d/2 of its block's scale (plus the f16 rounding of d).
            let q = try f.floats("m.q8_0")
            XCTAssertEqual(q.count, matrix.count)
            for block in 0..<(matrix.count / 32) {
                let range = block * 32..<(block + 1) * 32
                let d = matrix[range].map(abs).max()! / 127
                for i in range {
                    XCTAssertLessThanOrEqual(abs(q[i] - matrix[i]), d / 2 + abs(matrix[i]) * 1e-3 + 1e-12, "q8_0 [\(i)]")
                }
                if d == 0 { XCTAssertEqual(Array(q[range]), [Float](repeating: 0, count: 32), "a zero block stays zero") }
            }
            XCTAssertTrue(q.contains { $0 != 0 }, "the Q8_0 tensor is not all zeros")
        }
    }

    /// Re-quantising gguf-py's dequantised Q8_0 fixture gives back its stored bytes exactly: scale, rounding
    /// (half away from zero) and layout are llama.cpp's.
    func testQ8_0BytesEqualGGUFPyOnTheFixture() throws {
        let fixture = try GGUFFile(path: GGUFFileTests.quantTypes)
        let reference = try SafeTensorsFile(path: GGUFFileTests.quantReference)
        for name in ["q8_0", "q8_0.3d"] {
            let values = try reference.view(name).toFloatArray()
            XCTAssertGreaterThan(values.count, 0)
            let dir = try TempDirectory()
            var w = GGUFWriter(path: dir.path("q.gguf"))
            try w.add(name, floats: values, shape: try reference.view(name).shape, type: .q8_0)
            try w.write()
            let written = try GGUFFile(path: dir.path("q.gguf"))
            try withExtendedLifetime((written, fixture)) {
                XCTAssertEqual(Array(try written.rawBytes(name)), Array(try fixture.rawBytes(name)), name)
            }
        }
    }

    /// Halves round away from zero (C's roundf), as ggml's reference quantiser does; d is f16.
    func testQ8_0RoundsHalvesAwayFromZero() throws {
        var block = [Float](repeating: 0, count: 32)
        block[0] = 127   // d = 1 exactly
        block[1] = 2.5; block[2] = -2.5; block[3] = 0.5; block[4] = -0.5; block[5] = 3.5; block[6] = -126.4
        let dir = try TempDirectory()
        var w = GGUFWriter(path: dir.path("q.gguf"))
        try w.add("q", floats: block, shape: [1, 32], type: .q8_0)
        try w.write()
        let file = try GGUFFile(path: dir.path("q.gguf"))
        let bytes = try withExtendedLifetime(file) { Array(try file.rawBytes("q")) }
        XCTAssertEqual(bytes.count, 34)
        XCTAssertEqual(UInt16(bytes[0]) | UInt16(bytes[1]) << 8, Float16(1).bitPattern, "scale d = 127/127 as f16")
        XCTAssertEqual(bytes[2..<9].map { Int8(bitPattern: $0) }, [127, 3, -3, 1, -1, 4, -126])
    }

    func testRefusals() throws {
        let dir = try TempDirectory()
        var w = GGUFWriter(path: dir.path("bad.gguf"))
        try w.add("a", floats: [1, 2], shape: [2], type: .f32)
        XCTAssertThrowsError(try w.add("a", floats: [1, 2], shape: [2], type: .f32)) { XCTAssertTrue("\($0)".contains("twice")) }
        XCTAssertThrowsError(try w.add(String(repeating: "x", count: 64), floats: [1], shape: [1], type: .f32))
        XCTAssertThrowsError(try w.add("b", floats: [Float](repeating: 1, count: 48), shape: [2, 24], type: .q8_0)) {
            XCTAssertTrue("\($0)".contains("not whole Q8_0 blocks"), "\($0)")
        }
        XCTAssertThrowsError(try w.add("c", floats: [1, 2, 3], shape: [2], type: .f32))
        XCTAssertThrowsError(try w.add("d", floats: [1, 2], shape: [2], type: .q4_K))
        XCTAssertThrowsError(try w.add("e", floats: [1], shape: [1, 1, 1, 1, 1], type: .f32))
        try w.add("nan", floats: [1, .nan], shape: [2], type: .f16)
        XCTAssertThrowsError(try w.write()) { XCTAssertTrue("\($0)".contains("'nan'") && "\($0)".contains("value 1"), "\($0)") }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.path("bad.gguf")), "nothing is left behind")
        XCTAssertEqual(try dir.contents(), [], "no temporary file either")
    }
}
