// OpenBLAS is linked and right: sgemm against a naive triple loop in every transpose combination,
// with strides and beta; and the flat parameter buffer's layout.
import XCTest
import TestSupport
@testable import SecuraTensor

final class BLASTests: XCTestCase {
    func testSgemmMatchesNaiveProductForEveryTransposeAndStride() {
        var rng = SeededRandom(seed: 42)
        let m = 7, n = 5, k = 9, pad = 3
        for transA in [false, true] {
            for transB in [false, true] {
                // Stored shapes with padded row strides.
                let aRows = transA ? k : m, aCols = transA ? m : k
                let bRows = transB ? n : k, bCols = transB ? k : n
                let lda = aCols + pad, ldb = bCols + pad, ldc = n + pad
                let a = rng.normals(aRows * lda), b = rng.normals(bRows * ldb), c0 = rng.normals(m * ldc)
                var c = c0
                BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 0.5, a: a, lda: lda,
                           b: b, ldb: ldb, beta: 2, c: &c, ldc: ldc)
                var expected = c0
                for i in 0..<m {
                    for j in 0..<n {
                        var s = 0.0
                        for p in 0..<k {
                            let av = transA ? a[p * lda + i] : a[i * lda + p]
                            let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                            s += Double(av) * Double(bv)
                        }
                        expected[i * ldc + j] = Float(0.5 * s + 2 * Double(c0[i * ldc + j]))
                    }
                }
                assertAllClose(c, expected, atol: 1e-5, rtol: 1e-5, "sgemm transA=\(transA) transB=\(transB)")
            }
        }
    }

    func testThreadCountIsApplied() {
        let saved = BLAS.threads
        BLAS.setThreads(1)
        XCTAssertEqual(BLAS.threads, 1)
        BLAS.setThreads(saved)
        XCTAssertFalse(BLAS.configuration.isEmpty)
    }

    func testParameterLayoutIsContiguousAndNamed() {
        var layout = ParameterLayout()
        layout.append("a", shape: [2, 3])
        layout.append("b", shape: [4])
        XCTAssertEqual(layout.count, 10)
        XCTAssertEqual(layout.entry("b")?.offset, 6)
        let buffer = ParameterBuffer(layout: layout)
        buffer.pointer("b")![1] = 5
        XCTAssertEqual(buffer.values("b"), [0, 5, 0, 0])
        buffer.zero()
        XCTAssertEqual(buffer.storage.toArray(), [Float](repeating: 0, count: 10))
        XCTAssertNil(buffer.pointer("missing"))
    }

    func testHalfAndBFloatConversionsRoundToNearestEven() {
        XCTAssertEqual(DTypeConversion.floatToBF16(1.0), 0x3F80)
        // 1 + 2^-8 lies exactly between two bf16 values: ties go to the even mantissa (1.0).
        XCTAssertEqual(DTypeConversion.floatToBF16(1 + 1.0 / 256), 0x3F80)
        XCTAssertEqual(DTypeConversion.floatToBF16(1 + 3.0 / 256), 0x3F82)
        XCTAssertEqual(DTypeConversion.halfToFloat(DTypeConversion.floatToHalf(0.1)), 0.0999755859375)
        XCTAssertTrue(Float(bitPattern: UInt32(DTypeConversion.floatToBF16(.nan)) << 16).isNaN)
    }
}

final class BLASThreadsTests: XCTestCase {
    /// A thread count from an unchecked number used to trap in the Int32 conversion (SIGILL, no message).
    func testThreadCountsAreClampedToTheCores() {
        let before = BLAS.threads
        defer { BLAS.setThreads(before) }
        XCTAssertEqual(BLAS.setThreads(2_147_483_648), BLAS.cores)
        XCTAssertEqual(BLAS.threads, BLAS.cores)
        XCTAssertEqual(BLAS.setThreads(Int.max), BLAS.cores)
        XCTAssertEqual(BLAS.setThreads(0), 1)
        XCTAssertEqual(BLAS.setThreads(-5), 1)
        XCTAssertEqual(BLAS.threads, 1)
    }
}
