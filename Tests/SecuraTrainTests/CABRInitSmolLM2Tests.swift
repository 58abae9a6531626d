// CABR's A from the SVD (LAPACK) equals the slice identity W[:r, :m] on every adapted matrix of SmolLM2.
import XCTest
import SecuraAdapters
import SecuraModel
import SecuraLinAlg
import TestSupport

final class CABRInitSmolLM2Tests: XCTestCase {
    func testSVDAndSlicePathsAgreeOnEveryAdaptedMatrix() throws {
        let path = try XCTUnwrap(FixturePaths.smolLM2, "SmolLM2 GGUF missing: run launch/fetch-model.sh")
        let loaded = try ModelLoader.open(path)
        var layout = ParameterLayout()
        let plans = MethodPlanner.plan(loaded.config, MethodSettings(), layout: &layout)
        XCTAssertEqual(plans.count, 60)
        var worst = 0.0
        for plan in plans {
            let w = try loaded.source.view(plan.site.weightName)
            let svd = try CABRInitializer.initialA(weight: w, rank: plan.rank, innerRank: plan.innerRank, mode: .svd,
                                                   svdRank: nil, solver: LAPACKSVD())
            let slice = try CABRInitializer.initialA(weight: w, rank: plan.rank, innerRank: plan.innerRank, mode: .slice,
                                                     svdRank: nil, solver: LAPACKSVD())
            var diff = 0.0, norm = 0.0
            for i in 0..<svd.count {
                diff += Double(svd[i] - slice[i]) * Double(svd[i] - slice[i])
                norm += Double(slice[i]) * Double(slice[i])
            }
            let relative = (diff / norm).squareRoot()
            worst = max(worst, relative)
            XCTAssertLessThan(relative, 1e-5, "\(plan.site.weightName): ‖A_svd − A_slice‖/‖A_slice‖ = \(relative)")
        }
        print("CABR init on SmolLM2: worst relative difference SVD vs slice over 60 matrices: \(worst)")
    }
}
