// The IMSM gate with the authors' placement (`--imsm-gate authors`): the PyTorch float64 reference with the
// same explicit dropout masks (Tests/Fixtures/imsm/authors_gate.json, made by make_authors_gate_reference.py),
// proof that the reference check fails on our lora-style placement, the context's masks against explicit
// ones, finite differences of the new backward, and the authors' initialisation.
import Foundation
import XCTest
import TestSupport
@testable import SecuraAdapters

final class IMSMAuthorsGateTests: XCTestCase {
    func setWeights(_ s: IMSMGateSetup, a: [Float], b: [Float]) {
        s.params.values.pointer(IMSMGate.nameA)!.update(from: a, count: a.count)
        s.params.values.pointer(IMSMGate.nameB)!.update(from: b, count: b.count)
    }

    // MARK: PyTorch reference

    struct Reference: Decodable {
        let C: Int, R: Int, B: Int, T: Int
        let prompt_lengths: [Int]
        let dropout: Float
        let inputs: [String: [Double]]
        let modes: [String: [String: [Double]]]
    }

    struct Loaded {
        let ref: Reference
        let h: [Float], hp: [Float], probe: [Float], b: [Float]
        func field(_ mode: IMSMMode, _ name: String) throws -> [Float] {
            try XCTUnwrap(ref.modes[mode.rawValue]?[name], "\(mode.rawValue).\(name)").map { Float($0) }
        }
    }

    func loadReference() throws -> Loaded {
        let ref = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: FixturePaths.fixture("imsm/authors_gate.json")))
        let input = { (name: String) throws -> [Float] in try XCTUnwrap(ref.inputs[name], name).map { Float($0) } }
        let loaded = Loaded(ref: ref, h: try input("h"), hp: try input("h_tuned"), probe: try input("G"), b: try input("gate_B"))
        XCTAssertEqual(loaded.h.count, ref.B * ref.T * ref.C)
        return loaded
    }

    static let modes: [IMSMMode] = [.full, .noQuery]
    static let atol: Float = 1e-5, rtol: Float = 1e-4

    /// max |a − r| and max |a − r| / |r| over the elements with |r| ≥ 1e-3 (for the report).
    func errors(_ a: [Float], _ r: [Float]) -> (abs: Double, rel: Double) {
        var worstAbs = 0.0, worstRel = 0.0
        for (x, y) in zip(a, r) {
            let e = Double(abs(x - y))
            worstAbs = max(worstAbs, e)
            if abs(y) >= 1e-3 { worstRel = max(worstRel, e / Double(abs(y))) }
        }
        return (worstAbs, worstRel)
    }

    func testMatchesPyTorchReferenceWithTheSameMasks() throws {
        let r = try loadReference(), ref = r.ref
        for mode in Self.modes {
            let s = IMSMGateSetup(mode, .authors, width: ref.C, rank: ref.R, dropout: ref.dropout)
            setWeights(s, a: try r.field(mode, "gate_A"), b: r.b)
            let masks = (afterA: try r.field(mode, "mask_after_A"), afterB: try r.field(mode, "mask_after_B"))
            XCTAssertTrue(masks.afterA.contains(0) && masks.afterB.contains(0), "\(mode.rawValue): the masks drop nothing")
            let got = s.run(r.h, r.hp, r.probe, ref.prompt_lengths, ref.T, masks: masks)
            let eval = s.forward(r.h, r.hp, ref.prompt_lengths, ref.T, training: false)
            for (name, value) in [("out", got.out), ("out_eval", eval), ("grad_h", got.dH), ("grad_h_tuned", got.dHp),
                                  ("grad_gate_A", got.dA), ("grad_gate_B", got.dB)] {
                let want = try r.field(mode, name)
                assertAllClose(value, want, atol: Self.atol, rtol: Self.rtol, "\(mode.rawValue) \(name)")
                let e = errors(value, want)
                print("authors gate \(mode.rawValue) \(name): \(value.count) values, max abs error \(e.abs), max rel error \(e.rel)")
            }
        }
    }

    /// The check above can fail: our lora-style placement (dropout on the gate input, with the context's masks),
    /// the authors' gate without its masks and with the two masks swapped between rows all miss the reference.
    func testReferenceCheckFailsOnOtherPlacements() throws {
        let r = try loadReference(), ref = r.ref
        let n = ref.B * ref.T
        for mode in Self.modes {
            let a = try r.field(mode, "gate_A")
            let want = (out: try r.field(mode, "out"), dA: try r.field(mode, "grad_gate_A"), dB: try r.field(mode, "grad_gate_B"))
            let ours = IMSMGateSetup(mode, .loraStyle, width: ref.C, rank: ref.R, dropout: ref.dropout)
            setWeights(ours, a: a, b: r.b)
            ours.context.rowSeeds = AdapterContext.rowSeeds(seed: 7, step: 3, samples: Array(0..<ref.B), length: ref.T)
            let old = ours.run(r.h, r.hp, r.probe, ref.prompt_lengths, ref.T)
            for (name, value, reference) in [("out", old.out, want.out), ("grad_gate_A", old.dA, want.dA), ("grad_gate_B", old.dB, want.dB)] {
                XCTAssertNotNil(closenessFailure(value, reference, atol: Self.atol, rtol: Self.rtol),
                                "\(mode.rawValue) \(name): the lora-style placement passes the authors' reference")
            }
            let s = IMSMGateSetup(mode, .authors, width: ref.C, rank: ref.R, dropout: ref.dropout)
            setWeights(s, a: a, b: r.b)
            let unmasked = s.run(r.h, r.hp, r.probe, ref.prompt_lengths, ref.T,
                               masks: (Array(repeating: 1, count: n * ref.R), Array(repeating: 1, count: n * ref.C)))
            XCTAssertNotNil(closenessFailure(unmasked.out, want.out, atol: Self.atol, rtol: Self.rtol), "\(mode.rawValue) no masks")
            let ma = try r.field(mode, "mask_after_A"), mb = try r.field(mode, "mask_after_B")
            let shifted = s.run(r.h, r.hp, r.probe, ref.prompt_lengths, ref.T,
                              masks: (Array(ma[ref.R...] + ma[..<ref.R]), Array(mb[ref.C...] + mb[..<ref.C])))
            XCTAssertNotNil(closenessFailure(shifted.dB, want.dB, atol: Self.atol, rtol: Self.rtol), "\(mode.rawValue) shifted masks")
        }
    }

    // MARK: the context's masks, finite differences

    /// A training forward draws its masks from the context with the two authors' site keys; backward reuses them.
    func testContextMasksAreTheDropoutSitesMasks() {
        let c = 6, r = 3, t = 5, lengths = [3, 2], n = 10
        var rng = SeededRandom(seed: 21)
        for mode in Self.modes {
            let s = IMSMGateSetup(mode, .authors, width: c, rank: r, dropout: 0.3)
            s.gate.initialize(&rng)
            s.context.rowSeeds = AdapterContext.rowSeeds(seed: 7, step: 3, samples: [0, 1], length: t)
            let h = rng.normals(n * c), hp = zip(h, rng.normals(n * c)).map { $0 + 0.5 * $1 }, probe = rng.normals(n * c)
            let ma = FloatBuffer(count: n * r), mb = FloatBuffer(count: n * c)
            Dropout(rate: 0.3, siteKey: IMSMGate.dropoutKeyAfterA).mask(out: ma.pointer, rows: n, features: r, context: s.context)
            Dropout(rate: 0.3, siteKey: IMSMGate.dropoutKeyAfterB).mask(out: mb.pointer, rows: n, features: c, context: s.context)
            let (a, b) = (ma.toArray(), mb.toArray())
            XCTAssertTrue(a.contains(0) && b.contains(0) && a.contains(1 / 0.7) && b.contains(1 / 0.7), mode.rawValue)
            let fromContext = s.run(h, hp, probe, lengths, t)
            let explicit = s.run(h, hp, probe, lengths, t, masks: (a, b))
            XCTAssertEqual(fromContext.out, explicit.out, mode.rawValue)
            XCTAssertEqual(fromContext.dA, explicit.dA, mode.rawValue)
            XCTAssertEqual(fromContext.dB, explicit.dB, mode.rawValue)
            XCTAssertEqual(fromContext.dHp, explicit.dHp, mode.rawValue)
            XCTAssertNotEqual(fromContext.out, s.forward(h, hp, lengths, t, training: false), "\(mode.rawValue): dropout had no effect")
        }
    }

    func checkFiniteDifferences(_ mode: IMSMMode, dropout: Float, file: StaticString = #filePath, line: UInt = #line) {
        let c = 6, r = 2
        var rng = SeededRandom(seed: 22)
        let s = IMSMGateSetup(mode, .authors, width: c, rank: r, dropout: dropout)
        s.gate.initialize(&rng)
        let bp = s.params.values.pointer(IMSMGate.nameB)!
        for i in 0..<(c * r) { bp[i] *= 4 }   // gates spread over (0, 1)
        s.checkFiniteDifferences("authors \(mode.rawValue) p=\(dropout)", lengths: [3, 2], length: 5, rng: &rng,
                                 file: file, line: line)
    }

    func testFiniteDifferences() {
        for mode in Self.modes {
            checkFiniteDifferences(mode, dropout: 0)
            checkFiniteDifferences(mode, dropout: 0.3)
        }
    }

    // MARK: initialisation, identity, validation

    /// Both matrices uniform within nn.Linear's bound 1/√fan_in (the fixture's bounds, checked against torch's
    /// initialiser by the script), reaching near it, with its standard deviation; the same seed, the same values.
    func testInitializationIsTorchLinearDefault() throws {
        let c = 64, r = 8
        for mode in Self.modes {
            let s = IMSMGateSetup(mode, .authors, width: c, rank: r, dropout: 0.1)
            var rng = SeededRandom(seed: 5)
            s.gate.initialize(&rng)
            for (name, bound) in [(IMSMGate.nameA, 1 / Float(mode.inputBlocks * c).squareRoot()), (IMSMGate.nameB, 1 / Float(r).squareRoot())] {
                let w = s.params.values.values(name)!
                let mean = w.reduce(0, +) / Float(w.count)
                let std = (w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(w.count)).squareRoot()
                let top = w.map(abs).max()!
                XCTAssertTrue(top <= bound && top > 0.97 * bound, "\(mode.rawValue) \(name): max |w| \(top), bound \(bound)")
                XCTAssertEqual(std * Float(3).squareRoot() / bound, 1, accuracy: 0.1, "\(mode.rawValue) \(name) std")
            }
            let again = IMSMGateSetup(mode, .authors, width: c, rank: r, dropout: 0.1)
            var same = SeededRandom(seed: 5)
            again.gate.initialize(&same)
            XCTAssertTrue(again.params.values.storage.toArray() == s.params.values.storage.toArray(), "\(mode.rawValue): not seeded")
        }
        // The fixture's bounds are the ones used above (C = 16, R = 4 there).
        let ref = try JSONSerialization.jsonObject(with: Data(contentsOf: FixturePaths.fixture("imsm/authors_gate.json"))) as? [String: Any]
        let initial = try XCTUnwrap(ref?["init"] as? [String: Any])
        XCTAssertEqual(try XCTUnwrap(initial["bound_B"] as? Double), 1 / Double(4).squareRoot(), accuracy: 1e-15)
        let full = try XCTUnwrap((initial["modes"] as? [String: [String: Double]])?["full"]?["bound_A"])
        XCTAssertEqual(full, 1 / Double(4 * 16).squareRoot(), accuracy: 1e-15)
    }

    /// h' = h still gives ĥ = h bit for bit: the blend does not depend on where the dropout acts.
    func testTunedEqualToBaseGivesBaseExactly() {
        let c = 16, t = 7, lengths = [4, 3], n = 14
        var rng = SeededRandom(seed: 23)
        for mode in Self.modes {
            let s = IMSMGateSetup(mode, .authors, width: c, rank: 4, dropout: 0.3)
            s.gate.initialize(&rng)
            s.context.rowSeeds = AdapterContext.rowSeeds(seed: 1, step: 0, samples: [0, 1], length: t)
            let h = rng.normals(n * c, std: 3)
            let out = s.run(h, h, rng.normals(n * c), lengths, t).out
            XCTAssertEqual(out.map(\.bitPattern), h.map(\.bitPattern), mode.rawValue)
        }
    }

    func testSettingsDecodeWithoutGateAndRefuseAuthorsWithoutGate() throws {
        let old = #"{"mode":"full","rank":8,"dropout":0.1,"lr":0.001}"#
        XCTAssertEqual(try JSONDecoder().decode(IMSMSettings.self, from: Data(old.utf8)).gate, .loraStyle)
        var s = IMSMSettings()
        s.gate = .authors
        XCTAssertEqual(try JSONDecoder().decode(IMSMSettings.self, from: JSONEncoder().encode(s)), s)
        var m = MethodSettings()
        m.method = .lora
        m.imsm = s
        XCTAssertNoThrow(try m.validate())
        m.imsm?.mode = .noGate
        XCTAssertThrowsError(try m.validate())
        XCTAssertEqual(IMSMGateVariant(rawValue: "lora-style"), .loraStyle)
        XCTAssertEqual(IMSMGate.scratchFloats(mode: .full, width: 16, rank: 4, batch: 2, length: 7, variant: .authors)
                       - IMSMGate.scratchFloats(mode: .full, width: 16, rank: 4, batch: 2, length: 7), 14 * (4 + 16))
    }
}
