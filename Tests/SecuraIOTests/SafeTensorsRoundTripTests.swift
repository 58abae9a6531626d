// Writing then reading back: every dtype, metadata, scalars and empty tensors, the exact header format
// (sorted keys, 8-byte padding, aligned data), and statistics.

import Foundation
import SecuraIO
import SecuraTensor
import TestSupport
import XCTest

final class SafeTensorsRoundTripTests: XCTestCase {
    func testAllDTypesAndMetadataRoundTrip() throws {
        let dir = try TempDirectory()
        let path = dir.path("model.safetensors")
        let weights: [Float] = [1, -2, 0.5, 3.25, -0.125, 7]
        var writer = SafeTensorsWriter(path: path, metadata: ["format": "pt", "note": "quote \" and\nnewline"])
        try writer.add("w32", floats: weights, shape: [2, 3])
        try writer.add("w16", floats: weights, shape: [3, 2], as: .f16)
        try writer.add("wbf", floats: weights, shape: [6], as: .bf16)
        try writer.add("raw", dtype: .bf16, shape: [2], bytes: RawSafeTensors.u16Bytes([0x3FC0, 0xC000]))
        try writer.write()

        let file = try SafeTensorsFile(path: path)
        XCTAssertEqual(file.names, ["raw", "w16", "w32", "wbf"])
        XCTAssertEqual(file.metadata, ["format": "pt", "note": "quote \" and\nnewline"])

        let w32 = try file.view("w32")
        XCTAssertEqual(w32.dtype, .f32)
        XCTAssertEqual(w32.shape, [2, 3])
        XCTAssertEqual(w32.toFloatArray(), weights)
        XCTAssertNotNil(w32.floatPointer)

        let w16 = try file.view("w16")
        XCTAssertEqual(w16.dtype, .f16)
        XCTAssertEqual(w16.shape, [3, 2])
        XCTAssertEqual(w16.toFloatArray(), weights)  // all exactly representable in f16

        let wbf = try file.view("wbf")
        XCTAssertEqual(wbf.dtype, .bf16)
        XCTAssertEqual(wbf.toFloatArray(), weights)

        XCTAssertEqual(try file.floats("raw"), [1.5, -2.0])
    }

    func testNarrowingRoundsToNearestEven() throws {
        let dir = try TempDirectory()
        let path = dir.path("r.safetensors")
        let third: Float = 1.0 / 3.0
        var writer = SafeTensorsWriter(path: path)
        try writer.add("b", floats: [third], shape: [1], as: .bf16)
        try writer.add("h", floats: [third], shape: [1], as: .f16)
        try writer.write()
        let file = try SafeTensorsFile(path: path)
        let bf16Third = Float(bitPattern: UInt32(DTypeConversion.floatToBF16(third)) << 16)
        XCTAssertEqual(try file.floats("b"), [bf16Third])
        XCTAssertEqual(bf16Third, 0.333984375, "1/3 rounds up to 0x3EAB in bf16")
        XCTAssertEqual(try file.floats("h"), [Float(Float16(third))])
    }

    func testScalarAndEmptyTensors() throws {
        let dir = try TempDirectory()
        let path = dir.path("s.safetensors")
        var writer = SafeTensorsWriter(path: path)
        try writer.add("scalar", floats: [42], shape: [])
        try writer.add("empty", floats: [], shape: [0, 5])
        try writer.write()
        let file = try SafeTensorsFile(path: path)
        let scalar = try file.view("scalar")
        XCTAssertEqual(scalar.shape, [])
        XCTAssertEqual(scalar.toFloatArray(), [42])
        let empty = try file.view("empty")
        XCTAssertEqual(empty.shape, [0, 5])
        XCTAssertEqual(empty.count, 0)
        XCTAssertEqual(empty.toFloatArray(), [])
        withExtendedLifetime(file) {}
    }

    func testEmptyFileOfTensorsIsValid() throws {
        let dir = try TempDirectory()
        let path = dir.path("none.safetensors")
        try SafeTensorsWriter(path: path).write()
        let file = try SafeTensorsFile(path: path)
        XCTAssertEqual(file.names, [])
        XCTAssertEqual(file.counts, TensorCounts())
    }

    func testHeaderIsSortedPaddedAndDataAligned() throws {
        let dir = try TempDirectory()
        let path = dir.path("h.safetensors")
        var writer = SafeTensorsWriter(path: path, metadata: ["z": "1", "a": "2"])
        // An odd-length f16 tensor named first must not misalign the f32 tensor after it.
        try writer.add("a_half", floats: [1, 2, 3], shape: [3], as: .f16)
        try writer.add("b_float", floats: [4, 5], shape: [2])
        try writer.add("c_bf", floats: [6], shape: [1], as: .bf16)
        try writer.write()

        let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let length = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        XCTAssertEqual(length % 8, 0)
        let header = String(decoding: bytes[8..<(8 + length)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{\"__metadata__\":{\"a\":\"2\",\"z\":\"1\"},\"a_half\":"), header)
        XCTAssertTrue(header.hasSuffix("}") || header.hasSuffix(" "))
        XCTAssertEqual(header.trimmingCharacters(in: .whitespaces).last, "}")
        let order = ["a_half", "b_float", "c_bf"].map { header.range(of: "\"\($0)\"")!.lowerBound }
        XCTAssertEqual(order, order.sorted())

        let file = try SafeTensorsFile(path: path)
        for name in file.names {
            let entry = try XCTUnwrap(file.entry(name))
            XCTAssertEqual(entry.fileRange.lowerBound % entry.dtype!.byteSize, 0, name)
        }
        XCTAssertEqual(file.entry("b_float")?.dataOffsets, 0..<8)  // widest dtype first
        XCTAssertEqual(try file.floats("a_half"), [1, 2, 3])
    }

    func testCountsAndEntries() throws {
        let dir = try TempDirectory()
        let path = dir.path("c.safetensors")
        var writer = SafeTensorsWriter(path: path)
        try writer.add("a", floats: Array(repeating: 0, count: 12), shape: [3, 4], as: .bf16)
        try writer.add("b", floats: Array(repeating: 0, count: 5), shape: [5])
        try writer.add("ids", dtypeName: "I64", shape: [2], bytes: Array(repeating: 0, count: 16))
        try writer.write()
        let file = try SafeTensorsFile(path: path)
        XCTAssertEqual(file.counts, TensorCounts(tensors: 3, parameters: 19, bytes: 24 + 20 + 16))
        XCTAssertEqual(file.countsByDType["BF16"], TensorCounts(tensors: 1, parameters: 12, bytes: 24))
        XCTAssertEqual(file.countsByDType["I64"], TensorCounts(tensors: 1, parameters: 2, bytes: 16))
        let ids = try XCTUnwrap(file.entry("ids"))
        XCTAssertEqual(ids.dtypeName, "I64")
        XCTAssertNil(ids.dtype)
        XCTAssertEqual(try file.rawBytes("ids").count, 16)
    }

    func testLazyProducerAndViewCopy() throws {
        let dir = try TempDirectory()
        let source = dir.path("src.safetensors")
        var first = SafeTensorsWriter(path: source)
        try first.add("w", floats: [1, 2, 3, 4], shape: [2, 2], as: .bf16)
        try first.write()

        let input = try SafeTensorsFile(path: source)
        let copy = dir.path("copy.safetensors")
        // The writer reads the view's bytes at write(), so the source file must stay alive until then.
        try withExtendedLifetime(input) {
            var second = SafeTensorsWriter(path: copy)
            try second.add(try input.view("w"), as: "w.copy")
            try second.add("merged", shape: [2, 2], as: .f32) { [10, 20, 30, 40] }
            try second.write()
        }

        let output = try SafeTensorsFile(path: copy)
        XCTAssertEqual(try output.view("w.copy").dtype, .bf16)
        XCTAssertEqual(try output.floats("w.copy"), [1, 2, 3, 4])
        XCTAssertEqual(try output.floats("merged"), [10, 20, 30, 40])
    }

    func testMisalignedF32IsServedFromAlignedCopy() throws {
        let dir = try TempDirectory()
        // Header length 10: the data section starts at byte 18, so F32 data is only 2-byte aligned.
        var header = RawSafeTensors.header(RawSafeTensors.entry("w", "F32", [3], 0, 12))
        header += String(repeating: " ", count: (4 - (8 + header.utf8.count) % 4 + 2) % 4)
        XCTAssertEqual((8 + header.utf8.count) % 4, 2)
        let values: [Float] = [1.5, -2.5, 3.75]
        let path = try dir.write(RawSafeTensors.file(header: header, data: RawSafeTensors.f32Bytes(values), padTo: 1),
                                 to: "odd.safetensors")
        let file = try SafeTensorsFile(path: path)
        let view = try file.view("w")
        XCTAssertEqual(Int(bitPattern: view.data) % 4, 0)
        XCTAssertEqual(view.toFloatArray(), values)
        XCTAssertEqual(try file.view("w").data, view.data, "the aligned copy is made once and reused")
    }
}
