// Activation recomputation: for every method (dropout on where it has one), gradients, losses and logits
// through `.recompute` activations equal those through `.stored` ones bit for bit, and a few Trainer steps
// (and a resume that switches the setting) give bit-identical trainable values.
import Foundation
import XCTest
import SecuraAdapters
import SecuraDistributed
import SecuraModel
import TestSupport
@testable import SecuraTrain

final class RecomputeTests: XCTestCase {
    /// Adapters of `method` on tiny-llama at every projection, with every trainable value perturbed so
    /// that each path (B ≠ 0, A's gradient ≠ 0, output normalisation active) carries a gradient.
    func makeAdapters(_ method: AdapterMethod, configure: (inout MethodSettings) -> Void = { _ in }) throws -> AdapterSet {
        let loaded = try ModelLoader.open(FixturePaths.fixture("tiny-llama").path)
        var s = MethodSettings()
        s.method = method
        s.targets = Projection.allCases
        s.cabrInit = .slice
        s.curRank = 16
        s.cabrM = 20
        s.rank = 4
        s.alpha = 8
        s.dropout = 0.1
        configure(&s)
        let adapters = try AdapterSet(config: loaded.config, base: loaded.source, settings: s, seed: 3, solver: NoSVD())
        if method != .full {
            var rng = SeededRandom(seed: 17)
            let v = adapters.parameters.values.storage.pointer
            for i in 0..<adapters.parameters.count { v[i] += 0.05 * rng.normal() }
        }
        return adapters
    }

    /// Three right-padded sequences of different lengths, with their targets.
    func batch() -> (TokenBatch, [Int32]) {
        let e = TrainingTests.examples(seed: 7, count: 3)
        let short = TrainingExample(tokens: Array(e[1].tokens.prefix(9)), lossMask: Array(e[1].lossMask.prefix(9)))
        return TokenBatch.padded([e[0], short, e[2]], padToken: 0)
    }

    struct Pass { var losses, logits, gradients, dEmbedding: [Float] }

    /// One training forward + backward with activations of `mode` (I-LoRA: the long-term forward and a
    /// consistency gradient in between, as the Trainer runs them).
    func pass(_ adapters: AdapterSet, _ mode: DecoderActivations.Mode) -> Pass {
        let model = adapters.model, params = adapters.parameters
        let (batch, targets) = batch()
        adapters.context.rowSeeds = AdapterContext.rowSeeds(seed: 42, step: 3, samples: [0, 1, 2], length: batch.length)
        let acts = DecoderActivations(config: model.config, batch: batch.batch, length: batch.length, mode: mode)
        model.forward(batch, into: acts, training: true)
        let (sum, count) = model.crossEntropy(acts, targets: targets)
        var logitGradient: ((UnsafeMutablePointer<Float>) -> Void)? = nil
        if let auxiliary = adapters.methodState?.auxiliaryLoss {
            let long = DecoderActivations(config: model.config, batch: batch.batch, length: batch.length, mode: .forwardOnly)
            auxiliary.withAuxiliaryModel(model) { model.forward(batch, into: long, training: false) }
            logitGradient = { d in
                for i in 0..<acts.logits.count { d[i] += 0.01 * (acts.logits.pointer[i] - long.logits.pointer[i]) }
            }
        }
        params.gradients.zero()
        let dEmbedding = model.backward(batch, acts: acts, targets: targets, lossWeight: 1 / Float(count),
                                        gradients: params.gradients, logitGradient: logitGradient)
        if mode == .recompute {
            XCTAssertEqual(Set(acts.layers.map(ObjectIdentifier.init)).count, 1, "recompute keeps one set of layer values")
        }
        return Pass(losses: acts.losses.toArray() + [Float(sum)], logits: acts.logits.toArray(),
                    gradients: params.gradients.storage.toArray(), dEmbedding: dEmbedding.toArray())
    }

    func check(_ label: String, _ method: AdapterMethod, configure: (inout MethodSettings) -> Void = { _ in },
               file: StaticString = #filePath, line: UInt = #line) throws {
        let adapters = try makeAdapters(method, configure: configure)
        let stored = pass(adapters, .stored)
        let recomputed = pass(adapters, .recompute)
        XCTAssertGreaterThan(stored.gradients.filter { $0 != 0 }.count, stored.gradients.count / 2,
                             "\(label): most gradient values are non-zero", file: file, line: line)
        assertBitIdentical(recomputed.losses, stored.losses, "\(label) losses", file: file, line: line)
        assertBitIdentical(recomputed.logits, stored.logits, "\(label) logits", file: file, line: line)
        assertBitIdentical(recomputed.gradients, stored.gradients, "\(label) gradient buffer", file: file, line: line)
        assertBitIdentical(recomputed.dEmbedding, stored.dEmbedding, "\(label) d(embedding output)", file: file, line: line)
    }

    func testLoRA() throws { try check("lora", .lora) }
    func testDoRA() throws { try check("dora", .dora) }
    func testCURLoRA() throws { try check("cur-lora", .curLoRA) }
    func testILoRA() throws { try check("i-lora", .iLoRA) }
    func testCABRLoRA() throws { try check("cabr-lora", .cabrLoRA) }
    func testSecuraM1() throws { try check("secura-m1", .securaM1) }
    func testSecuraM1WithOutputNormalization() throws {
        try check("secura-m1 --smagnorm output", .securaM1) { $0.smagnorm = .output }
    }
    func testSecuraM2() throws { try check("secura-m2", .securaM2) }
    func testFull() throws { try check("full", .full) }
    func testLoRAWithIMSM() throws { try check("lora + imsm", .lora) { $0.imsm = IMSMSettings() } }

    /// A copy of `trainer` (same adapters, data and options) with `recompute` set.
    func trainer(_ method: AdapterMethod, recompute: Bool, steps: Int = 3,
                 configure: (inout MethodSettings) -> Void = { _ in }) throws -> Trainer {
        let t = try TrainingTests.makeTrainer(method, steps: steps, configure: configure)
        var o = t.options
        o.recompute = recompute
        return try Trainer(adapters: t.adapters, options: o, comm: SingleProcessCommunicator(), train: t.train,
                           validation: t.validation)
    }

    func testTrainerStepsAreBitIdentical() throws {
        let cases: [(String, AdapterMethod, (inout MethodSettings) -> Void)] = [
            ("lora", .lora, { _ in }), ("i-lora", .iLoRA, { _ in }), ("secura-m1", .securaM1, { _ in }),
            ("secura-m2 + imsm", .securaM2, { $0.imsm = IMSMSettings() }),
        ]
        for (label, method, configure) in cases {
            let stored = try trainer(method, recompute: false, configure: configure)
            let recomputed = try trainer(method, recompute: true, configure: configure)
            for _ in 0..<3 {
                let a = try stored.trainStep(), b = try recomputed.trainStep()
                XCTAssertEqual(a.loss.bitPattern, b.loss.bitPattern, "\(label) step \(a.step) loss")
            }
            assertBitIdentical(recomputed.adapters.parameters.values.storage.toArray(),
                               stored.adapters.parameters.values.storage.toArray(), "\(label) trainable values")
            for (site, m) in stored.adapters.masters {
                assertBitIdentical(recomputed.adapters.masters[site]!.toArray(), m.toArray(), "\(label) merged \(site)")
            }
        }
    }

    func testResumeMaySwitchRecomputation() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recompute-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let straight = try trainer(.lora, recompute: false, steps: 4)
        for _ in 0..<4 { _ = try straight.trainStep() }
        let first = try trainer(.lora, recompute: true, steps: 4)
        for _ in 0..<2 { _ = try first.trainStep() }
        try Checkpoint.save(first, modelPath: "tiny-llama", to: dir.appendingPathComponent(Checkpoint.name(step: 2)), optimizer: true)
        let resumed = try trainer(.lora, recompute: false, steps: 4)
        let state = try resumed.resume(from: XCTUnwrap(Checkpoint.latest(in: dir)))
        XCTAssertTrue(state.training.recompute, "the checkpoint records --recompute")
        for _ in 2..<4 { _ = try resumed.trainStep() }
        assertBitIdentical(resumed.adapters.parameters.values.storage.toArray(),
                           straight.adapters.parameters.values.storage.toArray(), "resumed without --recompute")
    }

    func testOptionsWithoutTheFlagDecodeAsStored() throws {
        var options = TrainingOptions()
        let plain = String(decoding: try JSONEncoder().encode(options), as: UTF8.self)
        XCTAssertFalse(plain.contains("recompute"), "an unset flag is not written: \(plain)")
        XCTAssertFalse(try JSONDecoder().decode(TrainingOptions.self, from: Data(plain.utf8)).recompute)
        options.recompute = true
        let decoded = try JSONDecoder().decode(TrainingOptions.self, from: JSONEncoder().encode(options))
        XCTAssertTrue(decoded.recompute)
        XCTAssertEqual(decoded, options)
    }

    /// The comparison helper itself fails on what must not pass.
    func testBitIdentityFailsOnBrokenInputs() {
        XCTAssertNil(bitIdentityFailure([1, -2, 0.5], [1, -2, 0.5]))
        XCTAssertNotNil(bitIdentityFailure([], []), "zero compared values")
        XCTAssertNotNil(bitIdentityFailure([1, 2], [1, 2, 3]), "length mismatch")
        XCTAssertNotNil(bitIdentityFailure([.nan], [.nan]), "NaN")
        XCTAssertNotNil(bitIdentityFailure([.infinity], [.infinity]), "Inf")
        XCTAssertNotNil(bitIdentityFailure([0], [-0.0]), "signed zero")
        XCTAssertNotNil(bitIdentityFailure([1], [Float(1).nextUp]), "one ulp")
    }
}

/// The adapters' scratch estimate against the Scratch buffers the deltas really hold after a step.
extension RecomputeTests {
    /// Floats held by the `Scratch` objects of `root` and of the deltas it wraps (found by reflection).
    func scratchFloats(_ root: Any) -> Int {
        var total = 0
        for child in Mirror(reflecting: root).children {
            if child.value is Scratch {
                total += Mirror(reflecting: child.value).children.compactMap { ($0.value as? FloatBuffer)?.count }.reduce(0, +)
            } else if child.value is LinearDelta {
                total += scratchFloats(child.value)
            }
        }
        return total
    }

    func testAdapterScratchEstimateEqualsTheScratchAfterAStep() throws {
        let cases: [(String, AdapterMethod, (inout MethodSettings) -> Void)] = [
            ("lora", .lora, { _ in }), ("lora without dropout", .lora, { $0.dropout = 0 }), ("dora", .dora, { _ in }),
            ("cur-lora", .curLoRA, { _ in }), ("i-lora", .iLoRA, { _ in }), ("cabr-lora", .cabrLoRA, { _ in }),
            ("secura-m1 output", .securaM1, { $0.smagnorm = .output }), ("secura-m2", .securaM2, { _ in }),
            ("full", .full, { _ in }), ("lora + imsm", .lora, { $0.imsm = IMSMSettings() }),
            ("cabr-lora + imsm no-query", .cabrLoRA, { var i = IMSMSettings(); i.mode = .noQuery; $0.imsm = i }),
        ]
        let helper = self
        for (label, method, configure) in cases {
            let adapters = try helper.makeAdapters(method, configure: configure)
            _ = helper.pass(adapters, .recompute)
            let (batch, _) = helper.batch()
            let eval = DecoderActivations(config: adapters.model.config, batch: batch.batch, length: batch.length)
            adapters.model.forward(batch, into: eval, training: false)
            var floats = adapters.model.deltas.values.reduce(0) { $0 + scratchFloats($1) }
            let longTermDeltas = (adapters.methodState as? ILoRAState)?.longTermDeltas ?? [:]
            floats += longTermDeltas.values.reduce(0) { $0 + scratchFloats($1) }
            if let gate = adapters.imsm?.gate { floats += scratchFloats(gate) }
            let estimate = AdapterSet.scratchBytes(config: adapters.model.config, settings: adapters.settings,
                                                   batch: batch.batch, length: batch.length)
            XCTAssertEqual(estimate, 4 * floats, label)
            if method != .full { XCTAssertGreaterThan(floats, 0, label) }
        }
    }
}
