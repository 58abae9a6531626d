// A gate bound to its own parameters and dropout context, with the training forward + backward and the
// finite-difference check that IMSMGateTests and IMSMAuthorsGateTests share.
import XCTest
import TestSupport
@testable import SecuraAdapters

/// One IMSM gate with its parameters and its dropout context.
struct IMSMGateSetup {
    let gate: IMSMGate
    let params: TrainableParameters
    let context: AdapterContext

    init(_ mode: IMSMMode, _ variant: IMSMGateVariant = .loraStyle, width c: Int, rank r: Int, dropout: Float) {
        var layout = ParameterLayout()
        IMSMGate.register(mode: mode, width: c, rank: r, in: &layout)
        params = TrainableParameters(layout: layout)
        context = AdapterContext()
        gate = IMSMGate(mode: mode, width: c, rank: r, dropout: dropout, variant: variant, parameters: params,
                        context: context)
    }

    /// What one training forward + backward with dĥ = probe gives (dA, dB empty for the no-gate mode).
    struct Result {
        var out: [Float], dH: [Float], dHp: [Float], dA: [Float], dB: [Float]
    }

    /// ĥ [B·T, C] from h, h' [B·T, C], with the context's dropout masks when `training`.
    func forward(_ h: [Float], _ hp: [Float], _ lengths: [Int], _ t: Int, training: Bool) -> [Float] {
        let out = FloatBuffer(count: h.count), hb = FloatBuffer(h), hpb = FloatBuffer(hp)
        gate.forward(out: out.pointer, base: hb.pointer, tuned: hpb.pointer, promptLengths: lengths, length: t,
                     training: training)
        return out.toArray()
    }

    /// A training forward (with explicit `masks` [B·T, R] and [B·T, C], else the context's) and its backward.
    func run(_ h: [Float], _ hp: [Float], _ probe: [Float], _ lengths: [Int], _ t: Int,
             masks: (afterA: [Float], afterB: [Float])? = nil) -> Result {
        let hb = FloatBuffer(h), hpb = FloatBuffer(hp), pb = FloatBuffer(probe), out = FloatBuffer(count: h.count)
        let dH = FloatBuffer(count: h.count), dHp = FloatBuffer(count: h.count)
        params.gradients.zero()
        if let masks {
            let ma = FloatBuffer(masks.afterA), mb = FloatBuffer(masks.afterB)
            gate.forward(out: out.pointer, base: hb.pointer, tuned: hpb.pointer, promptLengths: lengths, length: t,
                         masks: (UnsafePointer(ma.pointer), UnsafePointer(mb.pointer)))
        } else {
            gate.forward(out: out.pointer, base: hb.pointer, tuned: hpb.pointer, promptLengths: lengths, length: t,
                         training: true)
        }
        gate.backward(dTuned: dHp.pointer, dBase: dH.pointer, dOut: pb.pointer, base: hb.pointer, tuned: hpb.pointer,
                      promptLengths: lengths, length: t)
        return Result(out: out.toArray(), dH: dH.toArray(), dHp: dHp.toArray(),
                      dA: params.gradients.values(IMSMGate.nameA) ?? [], dB: params.gradients.values(IMSMGate.nameB) ?? [])
    }

    /// Checks dh, dh' and (gated modes) dW_A, dW_B of a training forward + backward against central differences
    /// (step 1e-3, the helper's default tolerances) of Σ ĥ ⊙ probe. Sets the context's row seeds, then draws
    /// h, h' = h + 0.5·noise and the probe from `rng`, in that order; the gate's weights are the caller's.
    func checkFiniteDifferences(_ label: String, lengths: [Int], length t: Int, rng: inout SeededRandom,
                                file: StaticString = #filePath, line: UInt = #line) {
        let n = lengths.count * t, c = gate.width
        context.rowSeeds = AdapterContext.rowSeeds(seed: 7, step: 3, samples: Array(0..<lengths.count), length: t)
        var h = rng.normals(n * c)
        var hp = zip(h, rng.normals(n * c)).map { $0 + 0.5 * $1 }
        let probe = rng.normals(n * c)
        let g = run(h, hp, probe, lengths, t)
        XCTAssertTrue(g.dHp.contains { $0 != 0 } && g.dH.contains { $0 != 0 }, "\(label): zero gradients", file: file, line: line)
        // Every objective reruns the training forward: with dropout the masks come from the same context.
        func objective(_ h: [Float], _ hp: [Float]) -> Double {
            probeDot(forward(h, hp, lengths, t, training: true), probe)
        }
        let (h0, hp0) = (h, hp)
        // With fp32 forwards and step 1e-3 the differences carry ~5e-4 of rounding noise; the PyTorch reference
        // tests check the same gradients to 1e-5 + 1e-4·|r|.
        assertGradientMatchesFiniteDifferences("\(label) dH'", values: &hp, analytic: g.dHp, step: 1e-3,
                                               file: file, line: line) { objective(h0, $0) }
        assertGradientMatchesFiniteDifferences("\(label) dH", values: &h, analytic: g.dH, step: 1e-3,
                                               file: file, line: line) { objective($0, hp0) }
        for (name, analytic) in [(IMSMGate.nameA, g.dA), (IMSMGate.nameB, g.dB)] where gate.mode != .noGate {
            let ptr = params.values.pointer(name)!
            var values = params.values.values(name)!
            XCTAssertTrue(analytic.contains { $0 != 0 }, "\(label): zero \(name) gradient", file: file, line: line)
            assertGradientMatchesFiniteDifferences("\(label) d\(name)", values: &values, analytic: analytic, step: 1e-3,
                                                   file: file, line: line) { v in
                ptr.update(from: v, count: v.count)
                return objective(h0, hp0)
            }
            ptr.update(from: values, count: values.count)
        }
    }
}
