// CABR's dealt SVD initialisation with the real LAPACK solver on in-process ranks: 1, 2 and 3 ranks give
// bit-identical A on every rank, each A equals the slice identity W[:r, :m] to 1e-5 relative (the full-SVD
// product is that block in exact arithmetic), `--cabr-svd-rank k` goes through the same path, and a bad
// matrix fails every rank with the same error. (ScaLAPACK cannot run in-process; launch/test-distributed.sh
// checks the dealt path under real mpirun.)
import Foundation
import XCTest
import SecuraAdapters
import SecuraDistributed
import SecuraModel
import SecuraLinAlg
import SecuraTensor
import TestSupport

final class CABRInitBatchTests: XCTestCase {
    /// Random N(0, 0.02²) matrices: square, tall, wide, and one smaller than r × m (clamped).
    static let shapes = [(64, 64), (96, 64), (48, 64), (40, 72), (80, 30), (64, 64), (8, 12)]

    static func jobs(nan: Bool = false) -> [CABRInitBatch.Job] {
        shapes.enumerated().map { i, shape in
            var rng = SeededRandom(seed: UInt64(100 + i))
            var values = rng.normals(shape.0 * shape.1, std: 0.02)
            if nan && i == 4 { values[17] = .nan }
            let buffer = FloatBuffer(values)
            let w = WeightView(name: "w\(i)", dtype: .f32, shape: [shape.0, shape.1], data: UnsafeRawPointer(buffer.pointer),
                               owner: buffer)
            return CABRInitBatch.Job(weight: w, rank: min(10, shape.0), innerRank: min(12, shape.1))
        }
    }

    static func dealt(ranks: Int, svdRank: Int? = nil) throws -> [[[Float]]] {
        let jobs = Self.jobs()
        return try InProcessWorld.run(ranks: ranks) { comm in
            try CABRInitBatch.initialA(jobs: jobs, mode: .svd, svdRank: svdRank, localSolver: LAPACKSVD(driver: .dgesdd),
                                       comm: comm)
        }
    }

    func testDealtSVDIsBitIdenticalOnOneTwoAndThreeRanksAndEqualsTheSlice() throws {
        let one = try Self.dealt(ranks: 1)[0]
        let jobs = Self.jobs()
        var worst = 0.0
        for (job, a) in zip(jobs, one) {
            let slice = try CABRInitializer.initialA(weight: job.weight, rank: job.rank, innerRank: job.innerRank, mode: .slice,
                                                     svdRank: nil, solver: LAPACKSVD())
            let e = relative(a, slice)
            worst = max(worst, e)
            XCTAssertLessThanOrEqual(e, 1e-5, "\(job.weight.name) \(job.weight.shape)")
        }
        XCTAssertGreaterThan(worst, 0, "the SVD path went through floating point, not a copy")
        for ranks in [2, 3] {
            for (rank, results) in try Self.dealt(ranks: ranks).enumerated() {
                XCTAssertEqual(results.count, one.count)
                for (i, (a, b)) in zip(results, one).enumerated() {
                    XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern), "matrix \(i), rank \(rank) of \(ranks)")
                }
            }
        }
    }

    func testTruncatedSVDRankGoesThroughTheDealtPath() throws {
        let full = try Self.dealt(ranks: 1)[0]
        let k3 = try Self.dealt(ranks: 2, svdRank: 3)
        XCTAssertEqual(k3[0].map { $0.flatMap { $0 }.map(\.bitPattern) }, k3[1].map { $0.flatMap { $0 }.map(\.bitPattern) })
        // Keeping 3 triplets changes A (a rank-3 matrix is not the slice).
        XCTAssertGreaterThan(relative(k3[0][0], full[0]), 1e-2)
        // Equal to the one-matrix path with the same local solver.
        let job = Self.jobs()[0]
        let direct = try CABRInitializer.initialA(weight: job.weight, rank: job.rank, innerRank: job.innerRank, mode: .svd,
                                                  svdRank: 3, solver: LAPACKSVD(driver: .dgesdd))
        XCTAssertEqual(k3[1][0].map(\.bitPattern), direct.map(\.bitPattern))
    }

    func testNonFiniteWeightFailsEveryRank() throws {
        let jobs = Self.jobs(nan: true)
        let errors = try InProcessWorld.run(ranks: 3) { comm -> String in
            do {
                _ = try CABRInitBatch.initialA(jobs: jobs, mode: .svd, svdRank: nil, localSolver: LAPACKSVD(driver: .dgesdd),
                                               comm: comm)
                return "no error"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(Set(errors).count, 1, "\(errors)")
        XCTAssertTrue(errors[0].contains("job 4") && errors[0].contains("NaN"), errors[0])
    }

    func testDriversAgreeWithTheSliceIdentity() throws {
        let job = Self.jobs()[0]
        let slice = try CABRInitializer.initialA(weight: job.weight, rank: job.rank, innerRank: job.innerRank, mode: .slice,
                                                 svdRank: nil, solver: LAPACKSVD())
        for driver in LAPACKSVD.Driver.allCases {
            let a = try CABRInitializer.initialA(weight: job.weight, rank: job.rank, innerRank: job.innerRank, mode: .svd,
                                                 svdRank: nil, solver: LAPACKSVD(driver: driver))
            XCTAssertLessThanOrEqual(relative(a, slice), 1e-5, driver.rawValue)
        }
    }

    /// max|a − b| / max|b|; fails the test on a length mismatch, an empty comparison or a non-finite value.
    func relative(_ a: [Float], _ b: [Float], file: StaticString = #filePath, line: UInt = #line) -> Double {
        guard a.count == b.count, !a.isEmpty else {
            XCTFail("bad comparison: \(a.count) vs \(b.count) values", file: file, line: line)
            return .infinity
        }
        var diff = 0.0, scale = 0.0
        for (x, y) in zip(a, b) {
            guard x.isFinite, y.isFinite else { XCTFail("non-finite value", file: file, line: line); return .infinity }
            diff = max(diff, Double(abs(x - y)))
            scale = max(scale, Double(abs(y)))
        }
        return diff / scale
    }
}
