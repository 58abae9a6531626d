// MatVec (one input row, the decode step's products): against a Double reference over column counts that hit
// every part of the loop (64-column blocks, 16- or 32-column steps, single columns), bf16 weights equal to their
// exact fp32 widening, the same bits on 1, 2 and 3 threads, accumulate, and Linear.forward's one-row path
// beside its sgemm path.
import XCTest
import SecuraTensor
import TestSupport
@testable import SecuraKernels

final class MatVecTests: XCTestCase {
    let columnCounts = [1, 15, 16, 17, 33, 64, 70, 128 + 31, 576]

    func product(_ w: [Float], _ x: [Float], rows: Int, dtype: DType = .f32, threads: Int = 1,
                 accumulateOnto start: [Float]? = nil) -> [Float] {
        let saved = Parallel.threads
        defer { Parallel.threads = saved }
        Parallel.threads = threads
        let columns = x.count
        let out = FloatBuffer(start ?? [Float](repeating: .nan, count: rows)), xb = FloatBuffer(x)
        let call = { (data: UnsafeRawPointer) in
            let view = WeightView(name: "w", dtype: dtype, shape: [rows, columns], data: data)
            MatVec.forward(out: out.pointer, input: xb.pointer, weight: view, accumulate: start != nil)
        }
        switch dtype {
        case .f32: w.withUnsafeBytes { call($0.baseAddress!) }
        default: w.map { DTypeConversion.floatToBF16($0) }.withUnsafeBytes { call($0.baseAddress!) }
        }
        return out.toArray()
    }

    func reference(_ w: [Float], _ x: [Float], rows: Int) -> [Float] {
        (0..<rows).map { r in
            Float((0..<x.count).reduce(0.0) { $0 + Double(w[r * x.count + $1]) * Double(x[$1]) })
        }
    }

    func testMatchesADoubleReferenceForEveryColumnCount() {
        var rng = SeededRandom(seed: 31)
        for columns in columnCounts {
            let rows = 7, w = rng.normals(rows * columns), x = rng.normals(columns)
            let got = product(w, x, rows: rows)
            assertAllClose(got, reference(w, x, rows: rows), atol: 2e-5, rtol: 1e-5, "f32, \(columns) columns")
            // bf16: the reference of the exactly widened weights.
            let widened = w.map { Float(bitPattern: UInt32(DTypeConversion.floatToBF16($0)) << 16) }
            XCTAssertNotEqual(widened, w, "bf16 rounding changes the weights")
            assertAllClose(product(w, x, rows: rows, dtype: .bf16), reference(widened, x, rows: rows),
                           atol: 2e-5, rtol: 1e-5, "bf16, \(columns) columns")
        }
    }

    func testAccumulateAddsToTheOutput() {
        var rng = SeededRandom(seed: 32)
        let rows = 5, columns = 70, w = rng.normals(rows * columns), x = rng.normals(columns), start = rng.normals(rows)
        let plain = product(w, x, rows: rows)
        for dtype in [DType.f32, .bf16] {
            let fresh = product(w, x, rows: rows, dtype: dtype)
            let added = product(w, x, rows: rows, dtype: dtype, accumulateOnto: start)
            XCTAssertEqual(added, zip(start, fresh).map { $0 + $1 }, "\(dtype.rawValue): out + W·x")
        }
        XCTAssertFalse(plain.contains { $0.isNaN }, "every output row written")
    }

    func testBitsDoNotDependOnTheThreadCount() {
        var rng = SeededRandom(seed: 33)
        // Enough rows that several workers take part (MatVec keeps small products on one thread).
        let columns = 131, rows = 3 * MatVec.elementsPerWorker / columns + 5
        let w = rng.normals(rows * columns), x = rng.normals(columns)
        for dtype in [DType.f32, .bf16] {
            let one = product(w, x, rows: rows, dtype: dtype, threads: 1)
            for threads in [2, 3] {
                XCTAssertEqual(product(w, x, rows: rows, dtype: dtype, threads: threads).map(\.bitPattern),
                               one.map(\.bitPattern), "\(dtype.rawValue), \(threads) threads")
            }
        }
    }

    func testLinearTakesItForOneRowAndAgreesWithSgemm() {
        var rng = SeededRandom(seed: 34)
        let ic = 150, oc = 40, w = rng.normals(oc * ic), x = rng.normals(2 * ic), bias = rng.normals(oc)
        let wb = FloatBuffer(w), xb = FloatBuffer(x), bb = FloatBuffer(bias)
        let view = WeightView(name: "w", dtype: .f32, shape: [oc, ic], data: UnsafeRawPointer(wb.pointer))
        let two = FloatBuffer(count: 2 * oc), one = FloatBuffer(count: oc)
        Linear.forward(out: two.pointer, input: xb.pointer, weight: view, bias: bb.pointer, rows: 2, inFeatures: ic,
                       outFeatures: oc)
        Linear.forward(out: one.pointer, input: xb.pointer, weight: view, bias: bb.pointer, rows: 1, inFeatures: ic,
                       outFeatures: oc)
        let direct = FloatBuffer(count: oc)
        MatVec.forward(out: direct.pointer, input: xb.pointer, weight: view, accumulate: false)
        XCTAssertEqual(one.toArray(), zip(direct.toArray(), bias).map { $0 + $1 }, "one row goes through MatVec")
        assertAllClose(one.toArray(), Array(two.toArray()[0..<oc]), atol: 1e-5, rtol: 1e-5, "sgemm's first row")
    }
}
