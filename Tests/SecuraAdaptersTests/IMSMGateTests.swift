// The IMSM gate: finite differences of every gradient in all three modes (with dropout off and on), the
// PyTorch float64 reference (Tests/Fixtures/imsm, made by make_reference.py), the h' = h identity, the
// start state, the generation path and parameter counts.
import Foundation
import XCTest
import TestSupport
@testable import SecuraAdapters

final class IMSMGateTests: XCTestCase {
    /// Random W_A ~ N(0, 1/kC) and W_B ~ N(0, 4/R): gates spread over (0, 1).
    func randomize(_ s: IMSMGateSetup, _ rng: inout SeededRandom) {
        for e in s.params.layout.entries {
            let std: Float = e.name == IMSMGate.nameA ? 1 / Float(e.shape[1]).squareRoot() : 2 / Float(e.shape[1]).squareRoot()
            let p = s.params.values.pointer(e.name)!
            for i in 0..<e.count { p[i] = rng.normal() * std }
        }
    }

    // MARK: finite differences

    func checkFiniteDifferences(_ mode: IMSMMode, dropout: Float, lengths: [Int], file: StaticString = #filePath,
                                line: UInt = #line) {
        var rng = SeededRandom(seed: 11)
        let s = IMSMGateSetup(mode, width: 6, rank: 2, dropout: dropout)
        randomize(s, &rng)
        s.checkFiniteDifferences("\(mode.rawValue) p=\(dropout) P=\(lengths)", lengths: lengths, length: 5, rng: &rng,
                                 file: file, line: line)
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
        let s = IMSMGateSetup(.full, width: c, rank: 2, dropout: 0.3)
        randomize(s, &rng)
        let h = rng.normals(n * c), hp = rng.normals(n * c)
        s.context.rowSeeds = AdapterContext.rowSeeds(seed: 7, step: 3, samples: [0, 1], length: t)
        let train = s.forward(h, hp, lengths, t, training: true)
        XCTAssertEqual(train, s.forward(h, hp, lengths, t, training: true))
        XCTAssertNotEqual(train, s.forward(h, hp, lengths, t, training: false))
        let plain = IMSMGateSetup(.full, width: c, rank: 2, dropout: 0)
        plain.params.values.storage.pointer.update(from: s.params.values.storage.pointer, count: s.params.count)
        XCTAssertEqual(s.forward(h, hp, lengths, t, training: false), plain.forward(h, hp, lengths, t, training: true))
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
            let s = IMSMGateSetup(mode, width: ref.C, rank: ref.R, dropout: 0.1)   // dropout only acts when training
            if mode != .noGate {
                let a = try input(mode == .full ? "gate_A_full" : "gate_A_no_query"), b = try input("gate_B")
                s.params.values.pointer(IMSMGate.nameA)!.update(from: a, count: a.count)
                s.params.values.pointer(IMSMGate.nameB)!.update(from: b, count: b.count)
            }
            let out = s.forward(h, hp, ref.prompt_lengths, ref.T, training: false)
            assertAllClose(out, try want("out"), atol: 1e-5, rtol: 1e-4, "\(mode.rawValue) out")
            // Gradients need a training forward; with dropout off it equals the evaluation one.
            let off = IMSMGateSetup(mode, width: ref.C, rank: ref.R, dropout: 0)
            off.params.values.storage.pointer.update(from: s.params.values.storage.pointer, count: s.params.count)
            let g = off.run(h, hp, probe, ref.prompt_lengths, ref.T)
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
            let s = IMSMGateSetup(mode, width: c, rank: r, dropout: 0.3)
            randomize(s, &rng)
            s.context.rowSeeds = AdapterContext.rowSeeds(seed: 1, step: 0, samples: [0, 1], length: t)
            let h = rng.normals(n * c, std: 3)
            for training in [false, true] {
                let out = s.forward(h, h, lengths, t, training: training)
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
        let average = IMSMGateSetup(.noGate, width: c, rank: r, dropout: 0).forward(h, hp, lengths, t, training: false)
        for mode in [IMSMMode.full, .noQuery] {
            let s = IMSMGateSetup(mode, width: c, rank: r, dropout: 0.1)
            var seeds = SeededRandom(seed: 3)
            s.gate.initialize(&seeds)
            let a = s.params.values.values(IMSMGate.nameA)!, bound = 1 / Float(mode.inputBlocks * c).squareRoot()
            XCTAssertTrue(a.allSatisfy { abs($0) <= bound } && a.contains { $0 != 0 }, "\(mode.rawValue) W_A")
            XCTAssertTrue(s.params.values.values(IMSMGate.nameB)!.allSatisfy { $0 == 0 }, "\(mode.rawValue) W_B")
            XCTAssertEqual(s.forward(h, hp, lengths, t, training: false), average, "\(mode.rawValue)")
        }
    }

    /// The per-token generation path equals the batch evaluation forward.
    func testSinglePositionPathMatchesBatch() {
        let c = 16, r = 4, t = 7, lengths = [4, 3], n = 14
        for mode in IMSMMode.allCases {
            var rng = SeededRandom(seed: 15)
            let s = IMSMGateSetup(mode, width: c, rank: r, dropout: 0.1)
            randomize(s, &rng)
            let h = FloatBuffer(rng.normals(n * c)), hp = FloatBuffer(rng.normals(n * c))
            let batch = s.forward(h.toArray(), hp.toArray(), lengths, t, training: false)
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
