// Stored f16/bf16 bit patterns read back through a file and widened to fp32 exactly: normal values,
// signs, an f16 subnormal, infinities and NaN.

import Foundation
import SecuraIO
import SecuraTensor
import TestSupport
import XCTest

final class DTypeWideningTests: XCTestCase {
    /// Writes 16-bit patterns as one tensor of `dtype`, reads it back and widens it.
    private func widened(_ bits: [UInt16], as dtype: DType) throws -> [Float] {
        let dir = try TempDirectory()
        let path = dir.path("w.safetensors")
        var writer = SafeTensorsWriter(path: path)
        try writer.add("t", dtype: dtype, shape: [bits.count], bytes: RawSafeTensors.u16Bytes(bits))
        try writer.write()
        let file = try SafeTensorsFile(path: path)
        return try file.floats("t")
    }

    func testBF16() throws {
        let values = try widened([0x3FC0, 0xC000, 0x0000, 0x8000, 0x7F80, 0xFF80, 0x3F80, 0x0001, 0x7FC0],
                                 as: .bf16)
        XCTAssertEqual(Array(values[0..<7]), [1.5, -2.0, 0, -0.0, .infinity, -.infinity, 1.0])
        XCTAssertEqual(values[3].sign, .minus)
        XCTAssertEqual(values[7], Float(bitPattern: 0x0001_0000), "bf16 subnormal keeps its bits")
        XCTAssertTrue(values[8].isNaN)
    }

    func testF16() throws {
        let values = try widened([0x3E00, 0xC000, 0x0001, 0x03FF, 0x7C00, 0xFC00, 0x7BFF, 0x8000, 0x7E00],
                                 as: .f16)
        XCTAssertEqual(values[0], 1.5)
        XCTAssertEqual(values[1], -2.0)
        XCTAssertEqual(values[2], Float(sign: .plus, exponent: -24, significand: 1), "smallest f16 subnormal")
        XCTAssertEqual(values[3], Float(1023) * Float(sign: .plus, exponent: -24, significand: 1))
        XCTAssertEqual(values[4], .infinity)
        XCTAssertEqual(values[5], -.infinity)
        XCTAssertEqual(values[6], 65504, "largest finite f16")
        XCTAssertEqual(values[7], 0)
        XCTAssertEqual(values[7].sign, .minus)
        XCTAssertTrue(values[8].isNaN)
    }

    func testPartialWidenMatchesWholeTensor() throws {
        let values = try widened([0x3F80, 0x4000, 0x4040, 0x4080], as: .bf16)
        XCTAssertEqual(values, [1, 2, 3, 4])
        let dir = try TempDirectory()
        let path = dir.path("p.safetensors")
        var writer = SafeTensorsWriter(path: path)
        try writer.add("t", floats: values, shape: [2, 2], as: .bf16)
        try writer.write()
        let file = try SafeTensorsFile(path: path)
        var row = [Float](repeating: 0, count: 2)
        // A view points into the file's mapping: the file must outlive every use of it.
        try withExtendedLifetime(file) {
            let view = try file.view("t")
            row.withUnsafeMutableBufferPointer { view.widen(start: 2, count: 2, into: $0.baseAddress!) }
        }
        XCTAssertEqual(row, [3, 4])
    }
}
