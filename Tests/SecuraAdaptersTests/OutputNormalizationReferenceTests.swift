// `--smagnorm output` and `--delta-bias` against the SECURA authors' rule written in PyTorch
// (Tests/Fixtures/make_smagnorm_output_reference.py): S detached, S ≡ 2 while the change is zero,
// ε in the denominator, SECURA-M2's long-term pair in the former weight, b_Δ on the change's output.
// Each case also holds the old rule's gradients, to show that the comparison tells them apart.
import Foundation
import XCTest
import SecuraKernels
import SecuraModel
import TestSupport
@testable import SecuraAdapters

final class OutputNormalizationReferenceTests: XCTestCase {
    struct Reference: Decodable {
        let H: Int, D: Int, N: Int, r: Int, m: Int
        let eps: Float, scale: Float
        let cases: [Case]
    }
    struct Gradients: Decodable { let dInput: [Float], dA: [Float], dB: [Float], dBias: [Float] }
    struct Case: Decodable {
        let name: String, longTerm: Bool, deltaBias: Bool
        let W: [Float], b: [Float], x: [Float], probe: [Float], columns: [Int], rows: [Int]
        let A: [Float], B: [Float], bias: [Float], AL: [Float], BL: [Float]
        let out: [Float], dInput: [Float], dA: [Float], dB: [Float], dBias: [Float]
        let old: Gradients
    }

    let site = LinearSite(layer: 0, projection: .q)

    func testOutputRuleMatchesTheAuthorsRule() throws {
        let ref = try JSONDecoder().decode(Reference.self,
                                           from: Data(contentsOf: FixturePaths.fixture("smagnorm-output/reference.json")))
        XCTAssertEqual(ref.cases.count, 5)
        for c in ref.cases {
            let (h, d, n) = (ref.H, ref.D, ref.N)
            let w = FloatBuffer(c.W)
            let view = WeightView(name: "w", dtype: .f32, shape: [h, d], data: UnsafeRawPointer(w.pointer), owner: w)
            var layout = ParameterLayout()
            CABRDelta.register(site, rank: ref.r, innerRank: ref.m, deltaBias: c.deltaBias, outFeatures: h, in: &layout)
            let params = TrainableParameters(layout: layout)
            let cabr = CABRDelta(site: site, weight: view, rank: ref.r, innerRank: ref.m, longTerm: c.longTerm, parameters: params)
            XCTAssertEqual(cabr.columnIndices, c.columns, "\(c.name): C's columns")
            XCTAssertEqual(cabr.rowIndices, c.rows, "\(c.name): R's rows")
            cabr.setInitialA(c.A)
            params.values.pointer(CABRDelta.names(site).b)!.update(from: c.B, count: c.B.count)
            if c.deltaBias { params.values.pointer(CABRDelta.biasName(site))!.update(from: c.bias, count: h) }
            if c.longTerm {
                cabr.longA!.pointer.update(from: c.AL, count: c.AL.count)
                cabr.longB!.pointer.update(from: c.BL, count: c.BL.count)
            }
            let delta = OutputNormalizedDelta(inner: cabr, weight: view, scale: ref.scale, eps: ref.eps,
                                              longTerm: c.longTerm ? cabr : nil)
            let x = FloatBuffer(c.x), bias = FloatBuffer(c.b), probe = FloatBuffer(c.probe)
            let out = FloatBuffer(count: n * h), dx = FloatBuffer(count: n * d)
            Linear.forward(out: out.pointer, input: x.pointer, weight: view, bias: bias.pointer, rows: n, inFeatures: d, outFeatures: h)
            delta.forward(out: out.pointer, input: x.pointer, rows: n, training: true)
            params.gradients.zero()
            delta.backward(dInput: dx.pointer, dOut: probe.pointer, input: x.pointer, rows: n)
            Linear.backward(dInput: dx.pointer, dWeight: nil, dBias: nil, dOut: probe.pointer, input: x.pointer, weight: view,
                            rows: n, inFeatures: d, outFeatures: h, accumulateInput: true)
            let names = CABRDelta.names(site)
            let dA = params.gradients.values(names.a)!, dB = params.gradients.values(names.b)!
            assertAllClose(out.toArray(), c.out, atol: 1e-5, rtol: 1e-4, "\(c.name): output")
            assertAllClose(dx.toArray(), c.dInput, atol: 1e-5, rtol: 1e-4, "\(c.name): dInput")
            assertAllClose(dA, c.dA, atol: 1e-5, rtol: 1e-4, "\(c.name): dA")
            assertAllClose(dB, c.dB, atol: 1e-5, rtol: 1e-4, "\(c.name): dB")
            if c.deltaBias {
                let dBias = params.gradients.values(CABRDelta.biasName(site))!
                assertAllClose(dBias, c.dBias, atol: 1e-5, rtol: 1e-4, "\(c.name): dBias")
                // The old rule's gradients are outside the tolerance: the comparison can fail.
                XCTAssertNotNil(closenessFailure(dBias, c.old.dBias, atol: 1e-5, rtol: 1e-4), "\(c.name): old rule's dBias")
            }
            if c.B.contains(where: { $0 != 0 }) {   // with B = 0 only b_Δ's gradient depends on the rule
                XCTAssertNotNil(closenessFailure(dx.toArray(), c.old.dInput, atol: 1e-5, rtol: 1e-4), "\(c.name): old rule's dInput")
                XCTAssertNotNil(closenessFailure(dB, c.old.dB, atol: 1e-5, rtol: 1e-4), "\(c.name): old rule's dB")
            }
            withExtendedLifetime((w, x, bias, probe)) {}
        }
    }

    /// Without b_Δ the parameter layout is as before (A, B per site), so old checkpoints still load.
    func testDeltaBiasIsOptInAndCounted() {
        var plain = ParameterLayout(), biased = ParameterLayout()
        CABRDelta.register(site, rank: 3, innerRank: 4, in: &plain)
        CABRDelta.register(site, rank: 3, innerRank: 4, deltaBias: true, outFeatures: 6, in: &biased)
        XCTAssertEqual(plain.entries.map(\.name), [CABRDelta.names(site).a, CABRDelta.names(site).b])
        XCTAssertEqual(biased.entries.last?.name, CABRDelta.biasName(site))
        XCTAssertEqual(biased.entries.reduce(0) { $0 + $1.count } - plain.entries.reduce(0) { $0 + $1.count }, 6)
    }

    func testDeltaBiasIsRefusedOutsideCABR() {
        var s = MethodSettings()
        s.deltaBias = true
        for method in AdapterMethod.allCases {
            s.method = method
            let cabr = [AdapterMethod.cabrLoRA, .securaM1, .securaM2].contains(method)
            XCTAssertEqual(s.unsupportedReason == nil, cabr, "\(method.rawValue): \(s.unsupportedReason ?? "accepted")")
        }
    }

    /// State files written before `delta_bias` existed decode with the default.
    func testMethodSettingsDecodeWithoutNewerKeys() throws {
        let json = #"{"method":"secura-m1","targets":["q_proj"],"rank":4,"alpha":8,"dropout":0,"curRank":5,"cabrM":6,"cabrInit":"slice","fusionStep":2,"smagnorm":"output","smagnormScale":6,"smagnormEps":1e-10,"mergePrecision":"bf16","emaDecay":0.99,"consistencyWeight":0.5}"#
        let s = try JSONDecoder().decode(MethodSettings.self, from: Data(json.utf8))
        XCTAssertEqual(s.method, .securaM1)
        XCTAssertEqual(s.fusionStep, 2)
        XCTAssertEqual(s.mergePrecision, .bf16)
        XCTAssertFalse(s.deltaBias)
        XCTAssertNil(s.imsm)
        let again = try JSONDecoder().decode(MethodSettings.self, from: try JSONEncoder().encode(s))
        XCTAssertEqual(again, s)
    }
}
