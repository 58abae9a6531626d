// IMSM wired into the decoder on the tiny fixture model: with the adapter delta at zero the logits are
// the base model's bit for bit (full forward and KV-cache path, every mode); finite differences of the
// whole model's loss with respect to gate and LoRA weights; the KV-cache path equals the full forward;
// SECURA-M1's frozen branch reads the original weights; the gate in the parameter count.
import Foundation
import XCTest
import SecuraDistributed
import SecuraModel
import TestSupport
@testable import SecuraAdapters

/// LoRA needs no SVD; CABR here uses the slice initialisation.
private struct NoSVD: SVDSolver {
    func svd(rows: Int, columns: Int, parts: SVDParts, fill: MatrixRowFill) throws -> SVDResult {
        throw SVDError.unsupported("tests use --cabr-init slice")
    }
}

final class IMSMModelTests: XCTestCase {
    static let fixture = FixturePaths.fixture("tiny-llama").path

    func makeAdapters(_ method: AdapterMethod = .lora, mode: IMSMMode = .full, gateDropout: Float = 0,
                      loraDropout: Float = 0, targets: [Projection] = [.q, .v],
                      gate: IMSMGateVariant = .loraStyle) throws -> (LoadedModel, AdapterSet) {
        let loaded = try ModelLoader.open(Self.fixture)
        var s = MethodSettings()
        s.method = method
        s.targets = targets
        s.rank = 4
        s.alpha = 8
        s.dropout = loraDropout
        s.cabrInit = .slice
        s.curRank = 16
        s.cabrM = 20
        var imsm = IMSMSettings()
        imsm.mode = mode
        imsm.rank = 3
        imsm.dropout = gateDropout
        imsm.gate = gate
        s.imsm = imsm
        return (loaded, try AdapterSet(config: loaded.config, base: loaded.source, settings: s, seed: 3, solver: NoSVD()))
    }

    /// Random values for the tensors whose name satisfies `which` (std scaled by 1/√fan-in, so gates spread).
    func randomize(_ a: AdapterSet, seed: UInt64, std: Float = 1, _ which: (String) -> Bool) {
        var rng = SeededRandom(seed: seed)
        for e in a.parameters.layout.entries where which(e.name) {
            let p = a.parameters.values.pointer(e.name)!
            let scale = std / Float(e.shape.last!).squareRoot()
            for i in 0..<e.count { p[i] = rng.normal() * scale }
        }
    }

    func isGate(_ name: String) -> Bool { name.hasPrefix("imsm.") }

    /// Two sequences of 9 tokens: prompts of 5 and 3 tokens (then the answer).
    let tokens: [Int32] = [1, 40, 77, 200, 13, 2, 9, 41, 250,
                           1, 128, 3, 2, 66, 66, 7, 19, 30]
    var batch: TokenBatch { TokenBatch(tokens: tokens, batch: 2, length: 9, promptLengths: [5, 3]) }

    func logits(_ model: DecoderModel, _ batch: TokenBatch, training: Bool = false) -> [Float] {
        let acts = DecoderActivations(config: model.config, batch: batch.batch, length: batch.length)
        model.forward(batch, into: acts, training: training)
        return acts.logits.toArray()
    }

    // MARK: identity while the adapter is zero

    func testZeroAdapterGivesTheBaseModelsLogitsExactly() throws {
        for mode in IMSMMode.allCases {
            let (loaded, a) = try makeAdapters(mode: mode, gateDropout: 0.1, loraDropout: 0.05, targets: Projection.allCases)
            // Fresh LoRA: B = 0, so the tuned model equals the frozen one; the gate is random, not at its init.
            randomize(a, seed: 7, std: 2, isGate)
            XCTAssertTrue(a.parameters.values.values(IMSMGate.nameB).map { $0.contains { $0 != 0 } } ?? (mode == .noGate))
            let base = try loaded.decoder()
            let reference = logits(base, batch)
            XCTAssertEqual(logits(a.model, batch), reference, "\(mode.rawValue): evaluation forward")
            // A training forward (gate and LoRA dropout on) changes nothing either.
            a.context.rowSeeds = AdapterContext.rowSeeds(seed: 5, step: 0, samples: [0, 1], length: 9)
            XCTAssertEqual(logits(a.model, batch, training: true), reference, "\(mode.rawValue): training forward")

            // The KV-cache path: prefill 5 tokens, then one at a time.
            let one = Array(tokens[0..<9])
            let tunedCache = KVCache(config: a.model.config, capacity: 9)
            let baseCache = KVCache(config: base.config, capacity: 9)
            XCTAssertEqual(try a.model.extend(tunedCache, with: Array(one[0..<5])), try base.extend(baseCache, with: Array(one[0..<5])),
                           "\(mode.rawValue): prefill")
            for t in 5..<9 {
                XCTAssertEqual(try a.model.extend(tunedCache, with: [one[t]]), try base.extend(baseCache, with: [one[t]]),
                               "\(mode.rawValue): cached step \(t)")
            }
            let g1 = try a.model.generate(prompt: [1, 2, 3], maxNewTokens: 6, stopTokens: [])
            let g0 = try base.generate(prompt: [1, 2, 3], maxNewTokens: 6, stopTokens: [])
            XCTAssertEqual(g1.tokens, g0.tokens, "\(mode.rawValue): generation")
        }
    }

    // MARK: gradients of the whole model

    /// Σ cross-entropy over the scored rows of the batch (Double), with the adapters' current values.
    /// `training`: with the gate's dropout, whose masks come from the context's row seeds.
    func loss(_ a: AdapterSet, _ batch: TokenBatch, _ targets: [Int32], training: Bool = false) -> Double {
        let acts = DecoderActivations(config: a.model.config, batch: batch.batch, length: batch.length)
        a.model.forward(batch, into: acts, training: training)
        return a.model.crossEntropy(acts, targets: targets).sum
    }

    func checkModelGradients(_ mode: IMSMMode, gate: IMSMGateVariant = .loraStyle, gateDropout: Float = 0,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let (_, a) = try makeAdapters(mode: mode, gateDropout: gateDropout, targets: [.q, .v, .down], gate: gate)
        // The adapter must move h' away from h, or the gate has no gradient.
        randomize(a, seed: 21, std: 1) { _ in true }
        let b = batch
        var targets = b.nextTokenTargets
        for (s, p) in b.promptLengths.enumerated() {
            for t in 0..<(p - 1) { targets[s * b.length + t] = -1 }   // score the answers only, as training does
        }
        let acts = DecoderActivations(config: a.model.config, batch: b.batch, length: b.length)
        a.context.rowSeeds = AdapterContext.rowSeeds(seed: 1, step: 0, samples: [0, 1], length: b.length)
        a.model.forward(b, into: acts, training: true)
        a.parameters.gradients.zero()
        a.model.backward(b, acts: acts, targets: targets, lossWeight: 1, gradients: a.parameters.gradients)

        var checked: [String] = []
        for e in a.parameters.layout.entries
            where isGate(e.name) || e.name.hasSuffix("layers.0.self_attn.q_proj.lora_A") || e.name.hasSuffix("layers.1.mlp.down_proj.lora_B") {
            let p = a.parameters.values.pointer(e.name)!
            var values = Array(UnsafeBufferPointer(start: p, count: e.count))
            let analytic = a.parameters.gradients.values(e.name)!
            XCTAssertTrue(analytic.contains { $0 != 0 }, "\(mode.rawValue) \(e.name): zero gradient", file: file, line: line)
            // A few elements each: the largest gradients and a spread of others.
            let top = analytic.indices.sorted { abs(analytic[$0]) > abs(analytic[$1]) }.prefix(3)
            let indices = Array(Set(top).union(stride(from: 1, to: e.count, by: max(1, e.count / 5))))
            assertGradientMatchesFiniteDifferences("\(mode.rawValue) \(e.name)", values: &values, analytic: analytic,
                                                   indices: indices, step: 1e-2, atol: 3e-3, rtol: 1e-2,
                                                   file: file, line: line) { v in
                p.update(from: v, count: v.count)
                return loss(a, b, targets, training: gateDropout > 0)
            }
            p.update(from: values, count: values.count)
            checked.append(e.name)
        }
        XCTAssertEqual(checked.filter(isGate).count, mode == .noGate ? 0 : 2, file: file, line: line)
        XCTAssertEqual(checked.count - checked.filter(isGate).count, 2, file: file, line: line)
    }

    func testWholeModelGradientsMatchFiniteDifferences() throws {
        for mode in IMSMMode.allCases { try checkModelGradients(mode) }
    }

    /// The authors' placement through the whole model, with its dropout after each linear layer active.
    func testWholeModelGradientsWithTheAuthorsGate() throws {
        for mode in [IMSMMode.full, .noQuery] { try checkModelGradients(mode, gate: .authors, gateDropout: 0.3) }
    }

    // MARK: generation

    func testCachedGenerationMatchesTheFullForwardWithPromptMeans() throws {
        for mode in [IMSMMode.full, .noQuery] {
            let (_, a) = try makeAdapters(mode: mode)
            randomize(a, seed: 31, std: 1) { _ in true }
            let model = a.model
            let prompt: [Int32] = [1, 40, 77, 200, 13, 2], rest: [Int32] = [9, 41, 250, 3]
            let all = prompt + rest
            let acts = DecoderActivations(config: model.config, batch: 1, length: all.count)
            model.forward(TokenBatch(tokens: all, batch: 1, length: all.count, promptLengths: [prompt.count]), into: acts)
            let v = model.config.vocabSize, full = acts.logits.toArray()
            let cache = KVCache(config: model.config, capacity: 12)
            var cached = try model.extend(cache, with: prompt)
            assertAllClose(cached, Array(full[((prompt.count - 1) * v)..<(prompt.count * v)]), atol: 1e-5, rtol: 1e-4,
                           "\(mode.rawValue) prefill")
            for (i, token) in rest.enumerated() {
                let t = prompt.count + i
                cached = try model.extend(cache, with: [token])
                assertAllClose(cached, Array(full[(t * v)..<((t + 1) * v)]), atol: 1e-5, rtol: 1e-4, "\(mode.rawValue) step \(t)")
            }
            // A new sequence in the same cache starts over with its own prompt means.
            cache.reset()
            let short = Array(all[0..<4])
            let shortActs = DecoderActivations(config: model.config, batch: 1, length: 4)
            model.forward(TokenBatch(tokens: short, batch: 1, length: 4, promptLengths: [4]), into: shortActs)
            assertAllClose(try model.extend(cache, with: short), Array(shortActs.logits.toArray()[(3 * v)...]),
                           atol: 1e-5, rtol: 1e-4, "\(mode.rawValue) after reset")
            // Greedy generation is the argmax of the full forward with the prompt's means.
            let g = try model.generate(prompt: prompt, maxNewTokens: 4, stopTokens: [])
            var seq = prompt
            for expected in g.tokens {
                let s = DecoderActivations(config: model.config, batch: 1, length: seq.count)
                model.forward(TokenBatch(tokens: seq, batch: 1, length: seq.count, promptLengths: [prompt.count]), into: s)
                XCTAssertEqual(Int32(Sampler.argmax(Array(s.logits.toArray()[((seq.count - 1) * v)...]))), expected)
                seq.append(expected)
            }
        }
    }

    // MARK: wiring

    func testFrozenBranchReadsTheOriginalWeights() throws {
        let (loaded, a) = try makeAdapters(.securaM1)
        let mixer = try XCTUnwrap(a.imsm)
        XCTAssertTrue(a.model.mixer === mixer)
        XCTAssertTrue(mixer.frozen.deltas.isEmpty && mixer.frozen.mixer == nil)
        for plan in a.plans {
            let original = try loaded.source.view(plan.site.weightName)
            XCTAssertEqual(mixer.frozen.weights.linear(plan.site).weight.data, original.data, "\(plan.site): frozen reads the file")
            XCTAssertNotEqual(a.model.weights.linear(plan.site).weight.data, original.data, "\(plan.site): tuned reads the master")
        }
        // The gate sits after every site's tensors in the one flat buffer.
        let range = try XCTUnwrap(a.imsmRange)
        XCTAssertEqual(range.upperBound, a.parameters.count)
        XCTAssertEqual(range.count, IMSMGate.parameterCount(mode: .full, width: 64, rank: 3))
        XCTAssertEqual(a.imsmParameterCount, 5 * 64 * 3)
    }

    /// A gate rank beyond the model width is refused before the gate is sized (2³¹ asked for terabytes).
    func testAGateRankBeyondTheWidthIsRefusedBeforeAllocating() throws {
        let loaded = try ModelLoader.open(Self.fixture)
        var s = MethodSettings()
        s.method = .lora
        var imsm = IMSMSettings()
        imsm.rank = 1 << 31
        s.imsm = imsm
        XCTAssertThrowsError(try AdapterSet(config: loaded.config, base: loaded.source, settings: s, seed: 3, solver: NoSVD())) { error in
            XCTAssertEqual(error as? MethodError, .settingOutOfRange(MethodError.imsmRank, found: "\(1 << 31)",
                                                                     expected: "at most the model width 64"))
        }
        imsm.rank = 64
        s.imsm = imsm
        XCTAssertNoThrow(try s.validate(for: loaded.config), "the width itself is allowed")
    }

    func testUnsupportedMethodsAreRefused() throws {
        for method in [AdapterMethod.full, .iLoRA] {
            XCTAssertThrowsError(try makeAdapters(method)) { error in
                XCTAssertTrue("\(error)".contains("IMSM wraps an adapter method"), "\(error)")
            }
        }
    }
}
