// The GGUF reader on the committed fixtures (made by make_gguf_reference.py with gguf-py's writer):
// header, every metadata value type, tensor infos, and dequantisation of every supported type against
// gguf-py's own dequantisation.

import Foundation
import SecuraIO
import TestSupport
import XCTest

final class GGUFFileTests: XCTestCase {
    static let quantTypes = FixturePaths.fixture("gguf/quant-types.gguf").path
    static let quantReference = FixturePaths.fixture("gguf/quant-types.reference.safetensors").path

    func testHeaderAndEveryMetadataType() throws {
        let f = try GGUFFile(path: Self.quantTypes)
        XCTAssertEqual(f.version, 3)
        XCTAssertEqual(f.alignment, 64)
        XCTAssertEqual(f.dataStart % 64, 0)
        XCTAssertEqual(f.architecture, "quant-types")
        XCTAssertEqual(f.metadataKeys.first, "general.architecture")
        XCTAssertEqual(f.metadataKeys.count, 18)

        XCTAssertEqual(f.value("test.uint8"), .uint8(200))
        XCTAssertEqual(f.value("test.int8"), .int8(-5))
        XCTAssertEqual(f.value("test.uint16"), .uint16(60000))
        XCTAssertEqual(f.value("test.int16"), .int16(-30000))
        XCTAssertEqual(f.value("test.uint32"), .uint32(4_000_000_000))
        XCTAssertEqual(f.value("test.int32"), .int32(-2_000_000_000))
        XCTAssertEqual(f.value("test.uint64"), .uint64((1 << 63) + 5))
        XCTAssertEqual(f.value("test.int64"), .int64(-(1 << 62)))
        XCTAssertEqual(f.value("test.float32"), .float32(1.5))
        XCTAssertEqual(f.value("test.float64"), .float64(-2.25e-300))
        XCTAssertEqual(f.value("test.bool"), .bool(true))
        XCTAssertEqual(f.value("test.string"), .string("héllo ✓ GGUF"))
        XCTAssertEqual(f.value("test.array.nested"),
                       .array(elementType: .array, values: [.array(elementType: .int32, values: [.int32(1), .int32(2)]),
                                                            .array(elementType: .int32, values: [.int32(3)])]))

        // Typed accessors widen integers of any width; UINT64 beyond Int.max is not an Int.
        XCTAssertEqual(try f.int("test.uint32"), 4_000_000_000)
        XCTAssertEqual(try f.int("test.int8"), -5)
        XCTAssertThrowsError(try f.int("test.uint64"))
        XCTAssertEqual(try f.double("test.float32"), 1.5)
        XCTAssertEqual(try f.bool("test.bool"), true)
        XCTAssertEqual(try f.string("test.string"), "héllo ✓ GGUF")
        XCTAssertEqual(try f.intArray("test.array.int32"), [1, -2, 3])
        XCTAssertEqual(try f.stringArray("test.array.string"), ["a", "bc", ""])
        XCTAssertEqual(try f.doubleArray("test.array.float32"), [0.5, -1.25])
        XCTAssertThrowsError(try f.stringArray("test.array.int32"))
        XCTAssertNil(try f.string("test.absent"))
    }

    func testTensorInfos() throws {
        let f = try GGUFFile(path: Self.quantTypes)
        XCTAssertEqual(f.tensors.map(\.name), ["f32.3d", "f16", "bf16", "q8_0", "q8_0.3d", "q4_0", "q4_1", "q4_k", "q6_k"])
        let t = try XCTUnwrap(f.tensor("f32.3d"))
        XCTAssertEqual(t.dimensions, [8, 3, 2])
        XCTAssertEqual(t.shape, [2, 3, 8])
        XCTAssertEqual(t.rowLength, 8)
        XCTAssertEqual(t.rowCount, 6)
        let q6 = try XCTUnwrap(f.tensor("q6_k"))
        XCTAssertEqual(q6.type, .q6_K)
        XCTAssertEqual(q6.shape, [3, 512])
        XCTAssertEqual(q6.byteCount, 3 * 2 * 210)
        XCTAssertEqual(q6.rowByteCount, 420)
        for t in f.tensors {
            XCTAssertEqual(t.offset % 64, 0, t.name)
            XCTAssertEqual(t.fileRange.lowerBound, f.dataStart + t.offset, t.name)
        }
    }

    func testDequantisationMatchesGGUFPy() throws {
        let f = try GGUFFile(path: Self.quantTypes)
        let reference = try SafeTensorsFile(path: Self.quantReference)
        XCTAssertEqual(Set(reference.names), Set(f.tensors.map(\.name)))
        for t in f.tensors {
            let ref = try reference.view(t.name)
            XCTAssertEqual(ref.shape, t.shape, t.name)
            // Same fp32 operations in the same order: bit-identical.
            assertAllClose(try f.floats(t.name), ref.toFloatArray(), atol: 0, rtol: 0, "\(t.type.name) \(t.name)")
        }
    }

    func testRowRangesAndThreadsGiveTheSameValues() throws {
        let f = try GGUFFile(path: Self.quantTypes)
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        for name in ["q4_k", "q6_k", "q8_0.3d", "bf16"] {
            let t = try XCTUnwrap(f.tensor(name))
            let whole = try f.floats(name)
            var part = [Float](repeating: .nan, count: 2 * t.rowLength)
            try part.withUnsafeMutableBufferPointer { try f.dequantize(name, rows: 1..<3, into: $0.baseAddress!) }
            XCTAssertEqual(part, Array(whole[t.rowLength..<(3 * t.rowLength)]), name)
            Parallel.threads = 2
            XCTAssertEqual(try f.floats(name), whole, name)
            Parallel.threads = saved
        }
    }

    func testPlainTypesAreServedAsViews() throws {
        let f = try GGUFFile(path: Self.quantTypes)
        let half = try f.view("f16")
        XCTAssertEqual(half.dtype, .f16)
        XCTAssertEqual(half.shape, [3, 40])
        XCTAssertEqual(half.toFloatArray(), try f.floats("f16"))
        XCTAssertEqual(Array(half.toFloatArray().prefix(4)), [0, -0.0, 5.9604645e-08, 65504])
        let bf = try f.view("bf16")
        XCTAssertEqual(bf.dtype, .bf16)
        XCTAssertEqual(bf.toFloatArray(), try f.floats("bf16"))
        let wide = try f.view("f32.3d")
        XCTAssertEqual(wide.shape, [2, 3, 8])
        XCTAssertNotNil(wide.floatPointer)
        XCTAssertThrowsError(try f.view("q4_k")) { error in
            guard case .unsupportedTensorType(_, "q4_k", "Q4_K", _)? = error as? GGUFError else {
                return XCTFail("unexpected \(error)")
            }
        }
    }

    func testTinyModelFileLooksLikeTheConverterOutput() throws {
        let f = try GGUFFile(path: FixturePaths.fixture("gguf/tiny-llama-f32.gguf").path)
        XCTAssertEqual(f.architecture, "llama")
        XCTAssertEqual(f.alignment, 32)
        XCTAssertEqual(try f.int("llama.block_count"), 2)
        XCTAssertEqual(try f.int("llama.attention.key_length"), 24)
        XCTAssertEqual(try f.double("llama.attention.layer_norm_rms_epsilon"), Double(Float(1e-5)))
        XCTAssertEqual(try f.stringArray("tokenizer.ggml.tokens")?.count, 256)
        XCTAssertEqual(f.tensor("blk.0.attn_q.weight")?.dimensions, [64, 96])
        XCTAssertEqual(f.tensor("rope_freqs.weight")?.dimensions, [12])
        XCTAssertFalse(f.contains("model.embed_tokens.weight"))
    }
}
