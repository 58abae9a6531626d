// The step-size hypothesis of the fidelity study (issue 15) in its exact form: CABR's change C·A·B·R
// grows with the cube of the weights' scale at a fixed B (C, R and A_init are slices of W), and
// `--cabr-scale unit` removes that dependence.
import XCTest
import SecuraDistributed
import SecuraModel
import TestSupport
@testable import SecuraAdapters

/// The slice initialisation needs no SVD.
private struct SliceOnlySVD: SVDSolver {
    func svd(rows: Int, columns: Int, parts: SVDParts, fill: MatrixRowFill) throws -> SVDResult {
        throw SVDError.unsupported("tests use --cabr-init slice")
    }
}

final class CABRScaleTests: XCTestCase {
    /// ‖ΔW‖_F of every adapted matrix of tiny-llama with its q/v weights multiplied by `factor`, after
    /// setting every B to the same values.
    func changeNorms(factor: Float, scale: CABRScale) throws -> [Double] {
        let loaded = try ModelLoader.open(FixturePaths.fixture("tiny-llama").path)
        let overlay = OverlayWeights(base: loaded.source)
        var keep: [FloatBuffer] = []
        for l in 0..<loaded.config.layers {
            for p in [Projection.q, .v] {
                let name = LinearSite(layer: l, projection: p).weightName
                let original = try loaded.source.view(name)
                let scaled = FloatBuffer(original.toFloatArray().map { $0 * factor })
                keep.append(scaled)
                overlay.set(name, WeightView(name: name, dtype: .f32, shape: original.shape, data: UnsafeRawPointer(scaled.pointer),
                                             owner: scaled))
            }
        }
        var s = MethodSettings()
        s.method = .cabrLoRA
        s.cabrInit = .slice
        s.curRank = 6
        s.cabrM = 8
        s.cabrScale = scale
        let adapters = try AdapterSet(config: loaded.config, base: overlay, settings: s, seed: 3, solver: SliceOnlySVD())
        var rng = SeededRandom(seed: 12)
        var norms: [Double] = []
        for plan in adapters.plans {
            let b = adapters.parameters.values.pointer(CABRDelta.names(plan.site).b)!
            for i in 0..<(plan.rank * plan.innerRank) { b[i] = rng.normal() * 0.1 }
            let original = try overlay.view(plan.site.weightName).toFloatArray()
            var w = original
            try w.withUnsafeMutableBufferPointer { try adapters.sites[plan.site]!.merge(into: $0.baseAddress!) }
            var sum = 0.0
            for i in w.indices {
                let d = Double(w[i]) - Double(original[i])
                sum += d * d
            }
            norms.append(sum.squareRoot())
        }
        withExtendedLifetime(keep) {}
        return norms
    }

    func testChangeGrowsWithTheCubeOfTheScaleUnlessUnit() throws {
        let base = try changeNorms(factor: 1, scale: .weights), quadrupled = try changeNorms(factor: 4, scale: .weights)
        XCTAssertEqual(base.count, quadrupled.count)
        XCTAssertFalse(base.isEmpty)
        for (a, b) in zip(base, quadrupled) { XCTAssertEqual(b / a, 64, accuracy: 64e-4, "slices of W: ΔW ∝ σ³") }
        let unit = try changeNorms(factor: 1, scale: .unit), unitQuadrupled = try changeNorms(factor: 4, scale: .unit)
        XCTAssertEqual(unit.count, unitQuadrupled.count)
        for (a, b) in zip(unit, unitQuadrupled) { XCTAssertEqual(b / a, 1, accuracy: 1e-4, "unit C, R and A/RMS: ΔW independent of σ") }
    }

    func testUnitScaleIsRefusedOutsideCABR() {
        var s = MethodSettings()
        s.method = .lora
        s.cabrScale = .unit
        XCTAssertNotNil(s.unsupportedReason)
        s.method = .securaM1
        XCTAssertNil(s.unsupportedReason)
    }
}
