// The streaming writer: the same bytes as SafeTensorsWriter for the same tensors whatever the chunking,
// and its failure paths (a chunk crossing a tensor's end, an incomplete file, bad tensor lists) leave
// neither a destination file nor a temporary file behind.

import Foundation
import SecuraIO
import SecuraTensor
import TestSupport
import XCTest

final class SafeTensorsStreamWriterTests: XCTestCase {
    private typealias Spec = SafeTensorsStreamWriter.TensorSpec

    /// Three tensors of mixed widths (so the data order differs from the declaration order) and bytes.
    private func sample() -> [(spec: Spec, bytes: [UInt8])] {
        let specs = [Spec(name: "b.weight", dtype: .bf16, shape: [3, 5]), Spec(name: "a.weight", dtype: .f32, shape: [7]),
                     Spec(name: "c.bias", dtype: .f16, shape: [4]), Spec(name: "empty", dtype: .f32, shape: [0, 3])]
        return specs.enumerated().map { i, s in (s, (0..<s.byteCount).map { UInt8(truncatingIfNeeded: $0 * 31 + i) }) }
    }

    func testSameBytesAsTheBufferedWriterForAnyChunking() throws {
        let dir = try TempDirectory()
        let tensors = sample()
        var reference = SafeTensorsWriter(path: dir.path("ref.safetensors"), metadata: ["format": "pt"])
        for t in tensors { try reference.add(t.spec.name, dtype: t.spec.dtype, shape: t.spec.shape, bytes: t.bytes) }
        try reference.write()
        let expected = try XCTUnwrap(FileManager.default.contents(atPath: dir.path("ref.safetensors")))

        for chunk in [1, 3, 1000] {
            let path = dir.path("stream-\(chunk).safetensors")
            let writer = try SafeTensorsStreamWriter(path: path, tensors: tensors.map(\.spec), metadata: ["format": "pt"])
            XCTAssertEqual(writer.dataOrder.map(\.name), ["a.weight", "empty", "b.weight", "c.bias"])
            XCTAssertEqual(writer.dataByteCount, tensors.reduce(0) { $0 + $1.bytes.count })
            while let current = writer.currentTensor {
                let bytes = try XCTUnwrap(tensors.first { $0.spec.name == current.name }?.bytes)
                var offset = current.byteCount - writer.remainingInCurrentTensor
                while offset < bytes.count {
                    let end = min(bytes.count, offset + chunk)
                    try writer.append(Array(bytes[offset..<end]))
                    offset = end
                }
            }
            try writer.commit()
            XCTAssertEqual(FileManager.default.contents(atPath: path), expected, "chunk \(chunk)")
            let file = try SafeTensorsFile(path: path)
            XCTAssertEqual(file.names.sorted(), tensors.map(\.spec.name).sorted())
        }
    }

    func testChunkCrossingATensorEndIsRefused() throws {
        let dir = try TempDirectory()
        let path = dir.path("x.safetensors")
        // Same width, so the data order is by name: "a" (8 bytes), then "b" (4 bytes).
        let writer = try SafeTensorsStreamWriter(path: path, tensors: [Spec(name: "b", dtype: .f32, shape: [1]),
                                                                       Spec(name: "a", dtype: .f32, shape: [2])])
        XCTAssertEqual(writer.currentTensor?.name, "a")
        assertIOError(try writer.append([UInt8](repeating: 0, count: 12)), mentions: [path, "'a'", "crosses"]) {
            if case .invalidTensorToWrite(_, "a", _) = $0 { true } else { false }
        }
        try writer.append([UInt8](repeating: 0, count: 8))
        XCTAssertEqual(writer.currentTensor?.name, "b")
        try writer.append([UInt8](repeating: 0, count: 4))
        XCTAssertNil(writer.currentTensor)
        assertIOError(try writer.append([UInt8](repeating: 0, count: 1)), mentions: [path, "after the last tensor"]) {
            if case .invalidTensorToWrite = $0 { true } else { false }
        }
        try writer.commit()
        XCTAssertEqual(try SafeTensorsFile(path: path).names.sorted(), ["a", "b"])
    }

    func testIncompleteFileIsDiscarded() throws {
        let dir = try TempDirectory()
        let path = dir.path("x.safetensors")
        let writer = try SafeTensorsStreamWriter(path: path, tensors: [Spec(name: "w", dtype: .bf16, shape: [4])])
        try writer.append([UInt8](repeating: 0, count: 6))
        assertIOError(try writer.commit(), mentions: [path, "'w'", "6 of 8 bytes"]) {
            if case .invalidTensorToWrite(_, "w", _) = $0 { true } else { false }
        }
        XCTAssertEqual(try dir.contents(), [], "neither the file nor its temporary may remain")
    }

    func testInvalidTensorListsAreRefused() throws {
        let dir = try TempDirectory()
        let path = dir.path("x.safetensors")
        assertIOError(try SafeTensorsStreamWriter(path: path, tensors: [Spec(name: "w", dtype: .f32, shape: [1]),
                                                                         Spec(name: "w", dtype: .f32, shape: [2])]),
                      mentions: [path, "'w'", "already"]) {
            if case .invalidTensorToWrite(_, "w", _) = $0 { true } else { false }
        }
        assertIOError(try SafeTensorsStreamWriter(path: path, tensors: [Spec(name: "n", dtype: .f32, shape: [2, -1])]),
                      mentions: [path, "'n'", "negative"]) {
            if case .invalidTensorToWrite(_, "n", _) = $0 { true } else { false }
        }
        assertIOError(try SafeTensorsStreamWriter(path: path, tensors: [Spec(name: "o", dtype: .f32, shape: [1 << 40, 1 << 40])]),
                      mentions: [path, "'o'", "overflows"]) {
            if case .invalidTensorToWrite(_, "o", _) = $0 { true } else { false }
        }
        assertIOError(try SafeTensorsStreamWriter(path: dir.path("missing/x.safetensors"), tensors: []),
                      mentions: ["missing"]) {
            if case .cannotWrite = $0 { true } else { false }
        }
        XCTAssertEqual(try dir.contents(), [])
    }
}
