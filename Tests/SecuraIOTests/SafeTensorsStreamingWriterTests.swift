// The writer's streaming sources (a stored tensor converted chunk by chunk, a tensor filled range by
// range) write exactly the bytes the whole-array path writes, over more than one chunk, and a failing
// filler leaves no file.

import Foundation
import SecuraIO
import SecuraTensor
import TestSupport
import XCTest

final class SafeTensorsStreamingWriterTests: XCTestCase {
    /// More than one chunk, and not a multiple of the chunk length.
    let count = SafeTensorsWriter.chunkElements + 4321

    func value(_ i: Int) -> Float { Float(sin(Double(i) * 0.001)) * 3 + Float(i % 7) * 1e-3 }

    func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    func testStreamingSourcesWriteTheSameBytesAsWholeArrays() throws {
        let dir = try TempDirectory()
        let values = (0..<count).map(value)
        let buffer = FloatBuffer(values)
        let view = WeightView(name: "w", dtype: .f32, shape: [count], data: UnsafeRawPointer(buffer.pointer), owner: buffer)
        for dtype in [DType.bf16, .f16, .f32] {
            var whole = SafeTensorsWriter(path: dir.path("whole.safetensors"))
            try whole.add("w", floats: values, shape: [count], as: dtype)
            try whole.add("s", floats: values, shape: [count], as: dtype)
            try whole.write()

            var streamed = SafeTensorsWriter(path: dir.path("streamed.safetensors"))
            try streamed.add(view, converting: dtype)
            var ranges: [Range<Int>] = []
            try streamed.add("s", shape: [count], as: dtype) { range, into in
                ranges.append(range)
                for (k, i) in range.enumerated() { into[k] = self.value(i) }
            }
            XCTAssertEqual(streamed.dataByteCount, 2 * count * dtype.byteSize)
            try streamed.write()
            XCTAssertEqual(ranges.count, 2, "the filler is called chunk by chunk")
            XCTAssertEqual(ranges.map(\.count).reduce(0, +), count)
            let a = try bytes(dir.path("whole.safetensors")), b = try bytes(dir.path("streamed.safetensors"))
            XCTAssertGreaterThan(a.count, 2 * count * dtype.byteSize)
            XCTAssertTrue(a == b, "\(dtype): streamed file differs from the whole-array file")
        }

        // A stored bf16 tensor converted to fp32 widens exactly.
        var narrow = SafeTensorsWriter(path: dir.path("bf16.safetensors"))
        try narrow.add("w", floats: values, shape: [count], as: .bf16)
        try narrow.write()
        let stored = try SafeTensorsFile(path: dir.path("bf16.safetensors")).view("w")
        var wide = SafeTensorsWriter(path: dir.path("f32.safetensors"))
        try wide.add(stored, converting: .f32)
        try wide.write()
        XCTAssertEqual(try SafeTensorsFile(path: dir.path("f32.safetensors")).floats("w"), stored.toFloatArray())
    }

    func testAFailingFillerLeavesNoFile() throws {
        struct Broken: Error {}
        let dir = try TempDirectory()
        var writer = SafeTensorsWriter(path: dir.path("out.safetensors"))
        try writer.add("s", shape: [count], as: .bf16) { range, _ in if range.lowerBound > 0 { throw Broken() } }
        XCTAssertThrowsError(try writer.write()) { XCTAssertTrue($0 is Broken) }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), [], "no file, no temporary file")
    }
}
