// The tensor checksum: a pinned value (the stored sums must not drift between versions), sensitivity to
// every single flipped bit and to the length, and the file check naming the tensor that fails.
import Foundation
import XCTest
import TestSupport
@testable import SecuraIO

final class TensorChecksumTests: XCTestCase {
    func testPinnedValuesAndEverySingleBitFlipChangesTheSum() {
        let bytes = (0..<37).map { UInt8(truncatingIfNeeded: $0 &* 29 &+ 3) }
        let sum = bytes.withUnsafeBytes { TensorChecksum.of($0) }
        XCTAssertEqual(TensorChecksum.hex(sum), TensorChecksum.hex(bytes.withUnsafeBytes { TensorChecksum.of($0) }))
        XCTAssertEqual(TensorChecksum.hex(TensorChecksum.of([Float]())), "8570e250fe4c2473", "the empty sum is pinned (computed independently in Python)")
        XCTAssertEqual(TensorChecksum.hex(TensorChecksum.of([1, 2, 3] as [Float])), "6cf3cc27297673ec", "a small sum is pinned")
        var seen = Set([sum])
        for i in 0..<bytes.count {
            for bit in 0..<8 {
                var flipped = bytes
                flipped[i] ^= 1 << bit
                seen.insert(flipped.withUnsafeBytes { TensorChecksum.of($0) })
            }
        }
        XCTAssertEqual(seen.count, 1 + 8 * bytes.count, "every flipped bit gives a different sum")
        XCTAssertNotEqual(TensorChecksum.of([1, 0] as [Float]), TensorChecksum.of([1] as [Float]), "trailing zeros count")
    }

    func testFileCheckNamesTheTensor() throws {
        let dir = try TempDirectory()
        var writer = SafeTensorsWriter(path: dir.path("s.safetensors"))
        let a: [Float] = [1, 2, 3], b: [Float] = [4, 5]
        try writer.add("a", floats: a, shape: [3])
        try writer.add("b", floats: b, shape: [2])
        writer.metadata[TensorChecksum.algorithmKey] = TensorChecksum.algorithm
        writer.metadata[TensorChecksum.key("a")] = TensorChecksum.hex(TensorChecksum.of(a))
        writer.metadata[TensorChecksum.key("b")] = TensorChecksum.hex(TensorChecksum.of(b))
        try writer.write()
        XCTAssertNil(try TensorChecksum.mismatch(in: SafeTensorsFile(path: dir.path("s.safetensors")), required: true))

        // One flipped bit in b's data.
        let file = try SafeTensorsFile(path: dir.path("s.safetensors"))
        let offset = file.entry("b")!.fileRange.lowerBound
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: dir.path("s.safetensors"))))
        bytes[offset + 2] ^= 0x10
        try dir.write(bytes, to: "bad.safetensors")
        let bad = try TensorChecksum.mismatch(in: SafeTensorsFile(path: dir.path("bad.safetensors")), required: true)
        XCTAssertEqual(bad?.tensor, "b")
        XCTAssertTrue(bad?.reason.contains("differs from the stored") == true, "\(String(describing: bad))")

        // No sums: passes only when they are not required.
        var plain = SafeTensorsWriter(path: dir.path("plain.safetensors"))
        try plain.add("a", floats: a, shape: [3])
        try plain.write()
        XCTAssertNil(try TensorChecksum.mismatch(in: SafeTensorsFile(path: dir.path("plain.safetensors")), required: false))
        XCTAssertEqual(try TensorChecksum.mismatch(in: SafeTensorsFile(path: dir.path("plain.safetensors")), required: true)?.tensor, "a")
    }
}
