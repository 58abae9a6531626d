// The IMSM gate: finite differences of every gradient in all three modes (with dropout off and on), the
// PyTorch float64 reference (Tests/Fixtures/imsm, made by make_reference.py), the h' = h identity, the
// start state, the generation path and parameter counts.
import Foundation
import XCTest
import TestSupport
@testable import SecuraAdapters

final class IMSMGateTests: XCTestCase {
    /// A gate bound to its own parameters, and its dropout context.
    struct Setup {
        let gate: IMSMGate
        let params: TrainableParameters
        let context: AdapterContext
    }

    func makeGate(_ mode: IMSMMode, width c: Int, rank r: Int, dropout: Float) -> Setup {
        var layout = ParameterLayout()
        IMSMGate.register(mode: mode, width: c, rank: r, in: &layout)
        let params = TrainableParameters(layout: layout), context = AdapterContext()
        return Setup(gate: IMSMGate(mode: mode, width: c, rank: r, dropout: dropout, parameters: params, context: context),
                     params: params, context: context)
    }

    /// Random W_A ~ N(0, 1/kC) and W_B ~ N(0, 4/R): gates spread over (0, 1).
    func randomize(_ s: Setup, _ rng: inout SeededRandom) {
        for e in s.params.layout.entries {
            let std: Float = e.name == IMSMGate.nameA ? 1 / Float(e.shape[1]).squareRoot() : 2 / Float(e.shape[1]).squareRoot()
            let p = s.params.values.pointer(e.name)!
            for i in 0..<e.count { p[i] = rng.normal() * std }
        }
    }

    func forward(_ gate: IMSMGate, _ h: [Float], _ hp: [Float], _ lengths: [Int], _ t: Int, training: Bool) -> [Float] {
        let out = FloatBuffer(count: h.count), hb = FloatBuffer(h), hpb = FloatBuffer(hp)
        gate.forward(out: out.pointer, base: hb.pointer, tuned: hpb.pointer, promptLengths: lengths, length: t,
                     training: training)
        return out.toArray()
    }

    /// Training forward then backward with dĥ = probe: (dh, dh', dW_A, dW_B) (the last two empty for no-gate).
    func gradients(_ s: Setup, _ h: [Float], _ hp: [Float], _ probe: [Float], _ lengths: [Int], _ t: Int)
        -> (dH: [Float], dHp: [Float], dA: [Float], dB: [Float]) {
        let hb = FloatBuffer(h), hpb = FloatBuffer(hp), pb = FloatBuffer(probe), out = FloatBuffer(count: h.count)
        let dH = FloatBuffer(count: h.count), dHp = FloatBuffer(count: h.count)
        s.params.gradients.zero()
        s.gate.forward(out: out.pointer, base: hb.pointer, tuned: hpb.pointer, promptLengths: lengths, length: t, training: true)
        s.gate.backward(dTuned: dHp.pointer, dBase: dH.pointer, dOut: pb.pointer, base: hb.pointer, tuned: hpb.pointer,
                        promptLengths: lengths, length: t)
        return (dH.toArray(), dHp.toArray(), s.params.gradients.values(IMSMGate.nameA) ?? [],
                s.params.gradients.values(IMSMGate.nameB) ?? [])
    }

    // MARK: finite differences

    func checkFiniteDifferences(_ mode: IMSMMode, dropout: Float, lengths: [Int], file: StaticString = #filePath,
                                line: UInt = #line) {
        let c = 6, r = 2, t = 5, n = lengths.count * t
        let label = "\(mode.rawValue) p=\(dropout) P=\(lengths)"
        var rng = SeededRandom(seed: 11)
        let s = makeGate(mode, width: c, rank: r, dropout: dropout)
        randomize(s, &rng)
        s.context.rowSeeds = AdapterContext.rowSeeds(seed: 7, step: 3, samples: Array(0..<lengths.count), length: t)
        var h = rng.normals(n * c)
        var hp = zip(h, rng.normals(n * c)).map { $0 + 0.5 * $1 }
        let probe = rng.normals(n * c)
        let g = gradients(s, h, hp, probe, lengths, t)
        XCTAssertTrue(g.dHp.contains { $0 != 0 } && g.dH.contains { $0 != 0 }, "\(label): zero gradients", file: file, line: line)
        // Every objective reruns the training forward: with dropout the masks come from the same context.
        func objective(_ h: [Float], _ hp: [Float]) -> Double {
            probeDot(forward(s.gate, h, hp, lengths, t, training: true), probe)
        }
        let (h0, hp0) = (h, hp)
        // The helper's default tolerances: with fp32 forwards and step 1e-3 the differences carry ~5e-4 of
        // rounding noise. testMatchesPyTorchReference checks the same gradients to 1e-5 + 1e-4·|r|.
        assertGradientMatchesFiniteDifferences("\(label) dH'", values: &hp, analytic: g.dHp, step: 1e-3,
                                               file: file, line: line) { objective(h0, $0) }
        assertGradientMatchesFiniteDifferences("\(label) dH", values: &h, analytic: g.dH, step: 1e-3,
                                               file: file, line: line) { objective($0, hp0) }
        for (name, analytic) in [(IMSMGate.nameA, g.dA), (IMSMGate.nameB, g.dB)] where mode != .noGate {
            let ptr = s.params.values.pointer(name)!
            var values = s.params.values.values(name)!
            XCTAssertTrue(analytic.contains { $0 != 0 }, "\(label): zero \(name) gradient", file: file, line: line)
            assertGradientMatchesFiniteDifferences("\(label) d\(name)", values: &values, analytic: analytic, step: 1e-3,
                                                   file: file, line: line) { v in
                ptr.update(from: v, count: v.count)
                return objective(h0, hp0)
            }
            ptr.update(from: values, count: values.count)
        }
    }

    func testFiniteDifferencesWithoutDropout() {
        for mode in IMSMMode.allCases { checkFiniteDifferences(mode, dropout: 0, lengths: [3, 2]) }
    }

    /// FD of the dropped-out forward only matches backward if both use the same masks.
    func testFiniteDifferencesWithDropoutUseTheForwardMasks() {
        for mode in IMSMMode.allCases { checkFiniteDifferences(mode, dropout: 0.3, lengths: [3, 2]) }
    }

    /// Edge prompt lengths: no prompt (q̄ = 0) and the whole sequence.
    func testFiniteDifferencesWithEmptyAndFullPrompts() {
        checkFiniteDifferences(.full, dropout: 0, lengths: [0, 5])
    }

    func testDropoutChangesTrainingOutputOnlyAndIsReproducible() {
        let c = 6, t = 5, lengths = [3, 2], n = 10
        var rng = SeededRandom(seed: 12)
        let s = makeGate(.full, width: c, rank: 2, dropout: 0.3)
        randomize(s, &rng)
        let h = rng.normals(n * c), hp = rng.normals(n * c)
        s.context.rowSeeds = AdapterContext.rowSeeds(seed: 7, step: 3, samples: [0, 1], length: t)
        let train = forward(s.gate, h, hp, lengths, t, training: true)
        XCTAssertEqual(train, forward(s.gate, h, hp, lengths, t, training: true))
        XCTAssertNotEqual(train, forward(s.gate, h, hp, lengths, t, training: false))
        let plain = makeGate(.full, width: c, rank: 2, dropout: 0)
        plain.params.values.storage.pointer.update(from: s.params.values.storage.pointer, count: s.params.count)
        XCTAssertEqual(forward(s.gate, h, hp, lengths, t, training: false), forward(plain.gate, h, hp, lengths, t, training: true))
    }

    // MARK: PyTorch reference

    struct Reference: Decodable {
        let C: Int, R: Int, B: Int, T: Int
        let prompt_lengths: [Int]
        let inputs: [String: [Double]]
        let modes: [String: [String: [Double]]]
    }

    func testMatchesPyTorchReference() throws {
        let url = FixturePaths.fixture("imsm/reference.json")
        let ref = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
        let input = { (name: String) throws -> [Float] in try XCTUnwrap(ref.inputs[name], name).map { Float($0) } }
        let h = try input("h"), hp = try input("h_tuned"), probe = try input("G")
        XCTAssertEqual(h.count, ref.B * ref.T * ref.C)
        for mode in IMSMMode.allCases {
            let expected = try XCTUnwrap(ref.modes[mode.rawValue], mode.rawValue)
            let want = { (name: String) throws -> [Float] in try XCTUnwrap(expected[name], name).map { Float($0) } }
            let s = makeGate(mode, width: ref.C, rank: ref.R, dropout: 0.1)   // dropout only acts when training
            if mode != .noGate {
                let a = try input(mode == .full ? "gate_A_full" : "gate_A_no_query"), b = try input("gate_B")
                s.params.values.pointer(IMSMGate.nameA)!.update(from: a, count: a.count)
                s.params.values.pointer(IMSMGate.nameB)!.update(from: b, count: b.count)
            }
            let out = forward(s.gate, h, hp, ref.prompt_lengths, ref.T, training: false)
            assertAllClose(out, try want("out"), atol: 1e-5, rtol: 1e-4, "\(mode.rawValue) out")
            // Gradients need a training forward; with dropout off it equals the evaluation one.
            let off = makeGate(mode, width: ref.C, rank: ref.R, dropout: 0)
            off.params.values.storage.pointer.update(from: s.params.values.storage.pointer, count: s.params.count)
            let g = gradients(off, h, hp, probe, ref.prompt_lengths, ref.T)
            assertAllClose(g.dH, try want("grad_h"), atol: 1e-5, rtol: 1e-4, "\(mode.rawValue) grad h")
            assertAllClose(g.dHp, try want("grad_h_tuned"), atol: 1e-5, rtol: 1e-4, "\(mode.rawValue) grad h'")
            if mode != .noGate {
                assertAllClose(g.dA, try want("grad_gate_A"), atol: 1e-5, rtol: 1e-4, "\(mode.rawValue) grad gate_A")
                assertAllClose(g.dB, try want("grad_gate_B"), atol: 1e-5, rtol: 1e-4, "\(mode.rawValue) grad gate_B")
            }
        }
    }

    // MARK: identity, start state, generation path

    /// A zero adapter delta gives h' = h, and then ĥ = h bit for bit for any gate weights and masks.
    func testTunedEqualToBaseGivesBaseExactly() {
        let c = 16, r = 4, t = 7, lengths = [4, 3], n = 14
        for mode in IMSMMode.allCases {
            var rng = SeededRandom(seed: 13)
            let s = makeGate(mode, width: c, rank: r, dropout: 0.3)
            randomize(s, &rng)
            s.context.rowSeeds = AdapterContext.rowSeeds(seed: 1, step: 0, samples: [0, 1], length: t)
            let h = rng.normals(n * c, std: 3)
            for training in [false, true] {
                let out = forward(s.gate, h, h, lengths, t, training: training)
                XCTAssertEqual(out.map(\.bitPattern), h.map(\.bitPattern), "\(mode.rawValue) training=\(training)")
            }
            let q = FloatBuffer(rng.normals(c)), hb = FloatBuffer(Array(h[0..<c])), out = FloatBuffer(count: c)
            s.gate.forward(out: out.pointer, base: hb.pointer, tuned: hb.pointer, queryBase: q.pointer, queryTuned: q.pointer)
            XCTAssertEqual(out.toArray().map(\.bitPattern), Array(h[0..<c]).map(\.bitPattern), "\(mode.rawValue) one row")
        }
    }

    /// W_B = 0 at the start: g = 0.5, the same output as the no-gate mode.
    func testInitializationStartsAtHalfGate() {
        let c = 16, r = 4, t = 7, lengths = [4, 3], n = 14
        var rng = SeededRandom(seed: 14)
        let h = rng.normals(n * c), hp = rng.normals(n * c)
        let average = forward(makeGate(.noGate, width: c, rank: r, dropout: 0).gate, h, hp, lengths, t, training: false)
        for mode in [IMSMMode.full, .noQuery] {
            let s = makeGate(mode, width: c, rank: r, dropout: 0.1)
            var seeds = SeededRandom(seed: 3)
            s.gate.initialize(&seeds)
            let a = s.params.values.values(IMSMGate.nameA)!, bound = 1 / Float(mode.inputBlocks * c).squareRoot()
            XCTAssertTrue(a.allSatisfy { abs($0) <= bound } && a.contains { $0 != 0 }, "\(mode.rawValue) W_A")
            XCTAssertTrue(s.params.values.values(IMSMGate.nameB)!.allSatisfy { $0 == 0 }, "\(mode.rawValue) W_B")
            XCTAssertEqual(forward(s.gate, h, hp, lengths, t, training: false), average, "\(mode.rawValue)")
        }
    }

    /// The per-token generation path equals the batch evaluation forward.
    func testSinglePositionPathMatchesBatch() {
        let c = 16, r = 4, t = 7, lengths = [4, 3], n = 14
        for mode in IMSMMode.allCases {
            var rng = SeededRandom(seed: 15)
            let s = makeGate(mode, width: c, rank: r, dropout: 0.1)
            randomize(s, &rng)
            let h = FloatBuffer(rng.normals(n * c)), hp = FloatBuffer(rng.normals(n * c))
            let batch = forward(s.gate, h.toArray(), hp.toArray(), lengths, t, training: false)
            let single = FloatBuffer(count: n * c), qb = FloatBuffer(count: c), qt = FloatBuffer(count: c)
            for (b, p) in lengths.enumerated() {
                IMSMGate.promptMean(out: qb.pointer, hidden: h.pointer + b * t * c, promptLength: p, width: c)
                IMSMGate.promptMean(out: qt.pointer, hidden: hp.pointer + b * t * c, promptLength: p, width: c)
                for row in (b * t)..<((b + 1) * t) {
                    s.gate.forward(out: single.pointer + row * c, base: h.pointer + row * c, tuned: hp.pointer + row * c,
                                   queryBase: qb.pointer, queryTuned: qt.pointer)
                }
            }
            assertAllClose(single.toArray(), batch, atol: 1e-6, rtol: 1e-5, "\(mode.rawValue) single-position path")
        }
    }

    // MARK: parameter counts and names

    func testParameterCounts() {
        let expected: [IMSMMode: Int] = [.full: 163_840, .noQuery: 98_304, .noGate: 0]
        for mode in IMSMMode.allCases {
            XCTAssertEqual(IMSMGate.parameterCount(mode: mode, width: 4096, rank: 8), expected[mode], mode.rawValue)
            var layout = ParameterLayout()
            IMSMGate.register(mode: mode, width: 4096, rank: 8, in: &layout)
            XCTAssertEqual(layout.count, expected[mode], mode.rawValue)
        }
        XCTAssertEqual(IMSMGate.promptLength(answerMask: [false, false, false, true, true, false]), 3)
        XCTAssertEqual(IMSMGate.promptLength(answerMask: [false, false]), 2)
        XCTAssertEqual(IMSMMode(rawValue: "no-query"), .noQuery)
        XCTAssertEqual(IMSMMode(rawValue: "no-gate"), .noGate)
    }
}
