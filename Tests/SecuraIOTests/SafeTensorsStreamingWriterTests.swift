// The writer's streaming sources (a stored tensor converted chunk by chunk, a tensor filled range by
// range) write exactly the bytes the whole-array path writes, for any chunk length; the ranges a filler
// is given stop at its tensor's end; and a file left incomplete by a failing filler leaves nothing behind.

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

    func testSameBytesForAnyChunkLength() throws {
        let dir = try TempDirectory()
        // Mixed widths (so the data order is not the order added), an empty tensor and metadata.
        let tensors: [(name: String, dtype: DType, shape: [Int])] = [("b.weight", .bf16, [3, 5]), ("a.weight", .f32, [7]),
                                                                     ("c.bias", .f16, [4]), ("empty", .f32, [0, 3])]
        func values(_ t: Int, _ n: Int) -> [Float] { (0..<n).map { Float($0 * 31 + t) * 0.37 - 5 } }
        var reference = SafeTensorsWriter(path: dir.path("ref.safetensors"), metadata: ["format": "pt"])
        for (t, tensor) in tensors.enumerated() {
            try reference.add(tensor.name, floats: values(t, tensor.shape.reduce(1, *)), shape: tensor.shape, as: tensor.dtype)
        }
        try reference.write()
        let expected = try bytes(dir.path("ref.safetensors"))
        XCTAssertEqual(try SafeTensorsFile(path: dir.path("ref.safetensors")).names.sorted(), tensors.map(\.name).sorted())

        for chunk in [1, 3, 1000] {
            let path = dir.path("stream-\(chunk).safetensors")
            var writer = SafeTensorsWriter(path: path, metadata: ["format": "pt"])
            writer.chunkElements = chunk
            var filled: [String: [Float]] = [:]
            for (t, tensor) in tensors.enumerated() {
                let all = values(t, tensor.shape.reduce(1, *))
                try writer.add(tensor.name, shape: tensor.shape, as: tensor.dtype) { range, into in
                    XCTAssertEqual(range.lowerBound, filled[tensor.name, default: []].count, "ranges are consecutive")
                    XCTAssertLessThanOrEqual(range.count, chunk)
                    XCTAssertEqual(into.count, range.count)
                    for (k, i) in range.enumerated() { into[k] = all[i] }
                    filled[tensor.name, default: []] += all[range]
                }
            }
            XCTAssertEqual(writer.dataByteCount, 7 * 4 + 15 * 2 + 4 * 2)
            try writer.write()
            XCTAssertTrue(try bytes(path) == expected, "chunks of \(chunk): the file differs from the whole-array file")
            for (t, tensor) in tensors.enumerated() where tensor.shape.reduce(1, *) > 0 {
                XCTAssertEqual(filled[tensor.name], values(t, tensor.shape.reduce(1, *)), "\(tensor.name) covered once")
            }
        }
    }

    func testRangesStopAtTheTensorsEnd() throws {
        let dir = try TempDirectory()
        var writer = SafeTensorsWriter(path: dir.path("x.safetensors"))
        writer.chunkElements = 3
        var calls: [String] = []
        // Same width, so the data order is by name: "a" (7 elements), then "b" (5).
        for (name, n) in [("b", 5), ("a", 7)] {
            try writer.add(name, shape: [n]) { range, into in
                calls.append("\(name)\(range)")
                for k in 0..<into.count { into[k] = Float(range.lowerBound + k) }
            }
        }
        var finished: [String] = []
        writer.afterEachTensor = { finished.append($0) }
        try writer.write()
        XCTAssertEqual(calls, ["a0..<3", "a3..<6", "a6..<7", "b0..<3", "b3..<5"])
        XCTAssertEqual(finished, ["a", "b"])
        let file = try SafeTensorsFile(path: dir.path("x.safetensors"))
        XCTAssertEqual(try file.floats("a"), (0..<7).map(Float.init))
        XCTAssertEqual(try file.floats("b"), (0..<5).map(Float.init))
    }

    func testAnIncompleteFileLeavesNothingBehind() throws {
        struct Broken: Error {}
        let dir = try TempDirectory()
        let path = dir.path("out.safetensors")
        var previous = SafeTensorsWriter(path: path)
        try previous.add("old", floats: [1, 2], shape: [2])
        try previous.write()
        let before = try bytes(path)

        // "a" is written completely, then "s" fails in its second chunk.
        var writer = SafeTensorsWriter(path: path)
        try writer.add("a", floats: [Float](repeating: 3, count: count), shape: [count])
        try writer.add("s", shape: [count], as: .bf16) { range, _ in if range.lowerBound > 0 { throw Broken() } }
        var finished: [String] = []
        writer.afterEachTensor = { finished.append($0) }
        XCTAssertThrowsError(try writer.write()) { XCTAssertTrue($0 is Broken, "\($0)") }
        XCTAssertEqual(finished, ["a"])
        XCTAssertEqual(try dir.contents(), ["out.safetensors"], "no temporary file may remain")
        XCTAssertTrue(try bytes(path) == before, "the previous file must be untouched")

        var fresh = SafeTensorsWriter(path: dir.path("new.safetensors"))
        try fresh.add("s", shape: [count], as: .bf16) { range, _ in if range.lowerBound > 0 { throw Broken() } }
        XCTAssertThrowsError(try fresh.write()) { XCTAssertTrue($0 is Broken, "\($0)") }
        XCTAssertEqual(try dir.contents(), ["out.safetensors"], "neither the file nor its temporary may remain")
    }
}
