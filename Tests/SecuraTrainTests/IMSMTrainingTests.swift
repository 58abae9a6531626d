// Training with IMSM on the tiny fixture model: the loss goes down for every adapter method, a resumed
// run is bit-identical, the gate's learning rate reaches only the gate's range of the flat buffer, the
// adapter folder brings the gate back for evaluation, single-model exports refuse, and 1 and 2 ranks agree.
import Foundation
import XCTest
import SecuraAdapters
import SecuraDistributed
import SecuraModel
import TestSupport
@testable import SecuraTrain

final class IMSMTrainingTests: XCTestCase {
    static func imsm(_ mode: IMSMMode = .full) -> IMSMSettings {
        var s = IMSMSettings()
        s.mode = mode
        s.rank = 4
        return s
    }

    func testEveryAdapterMethodWithIMSMLowersTheLoss() throws {
        var runs: [(AdapterMethod, IMSMMode)] = [AdapterMethod.lora, .dora, .curLoRA, .cabrLoRA, .securaM1, .securaM2].map { ($0, .full) }
        runs += [(.lora, .noQuery), (.lora, .noGate)]
        for (method, mode) in runs {
            let lr = method.definition.usesCABRInit || method == .curLoRA ? 5e-2 : 1e-2
            let trainer = try TrainingTests.makeTrainer(method, lr: lr) { $0.imsm = Self.imsm(mode) }
            let before = try XCTUnwrap(trainer.validationLoss())
            var losses: [Double] = []
            for _ in 0..<12 { losses.append(try trainer.trainStep().loss) }
            let after = try XCTUnwrap(trainer.validationLoss())
            let label = "\(method.rawValue) + imsm \(mode.rawValue)"
            XCTAssertLessThan(after, before, "\(label): validation loss \(before) → \(after)")
            XCTAssertLessThan(losses.suffix(3).reduce(0, +), losses.prefix(3).reduce(0, +), "\(label): training losses \(losses)")
            if mode != .noGate {
                // Once the adapter has moved h' away from h, the gate learns too.
                let gate = trainer.adapters.parameters.values.values(IMSMGate.nameB)!
                XCTAssertTrue(gate.contains { $0 != 0 }, "\(label): W_B never moved")
            }
        }
    }

    func testResumeWithIMSMIsBitIdentical() throws {
        for method in [AdapterMethod.lora, .securaM1] {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("imsm-resume-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: dir) }
            let configure: (inout MethodSettings) -> Void = { $0.imsm = Self.imsm() }
            let straight = try TrainingTests.makeTrainer(method, steps: 6, configure: configure)
            for _ in 0..<6 { _ = try straight.trainStep() }

            let first = try TrainingTests.makeTrainer(method, steps: 6, configure: configure)
            for _ in 0..<3 { _ = try first.trainStep() }
            let folder = dir.appendingPathComponent(Checkpoint.name(step: 3))
            try Checkpoint.save(first, modelPath: "tiny-llama", to: folder, optimizer: true)
            XCTAssertEqual(try Checkpoint.readState(folder).method.imsm, Self.imsm(), "state.json records the IMSM settings")
            let resumed = try TrainingTests.makeTrainer(method, steps: 6, configure: configure)
            try resumed.resume(from: XCTUnwrap(Checkpoint.latest(in: dir)))
            for _ in 3..<6 { _ = try resumed.trainStep() }
            let label = "\(method.rawValue) + imsm"
            assertSameRunState(resumed, straight, label)
            // Without IMSM the same checkpoint does not resume.
            let plain = try TrainingTests.makeTrainer(method, steps: 6)
            XCTAssertThrowsError(try plain.resume(from: folder))
        }
    }

    /// `--imsm-gate authors`: W_B starts random (the same from the same seed), training lowers the loss, a
    /// checkpoint records the variant and resumes bit for bit, a lora-style run refuses it, and 2 ranks agree.
    func testAuthorsGateTrainsResumesAndIsRecorded() throws {
        var authors = Self.imsm()
        authors.gate = .authors
        let configure: (inout MethodSettings) -> Void = { $0.imsm = authors }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("imsm-authors-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let straight = try TrainingTests.makeTrainer(.lora, steps: 6, lr: 1e-2, configure: configure)
        let b0 = straight.adapters.parameters.values.values(IMSMGate.nameB)!
        XCTAssertTrue(b0.contains { $0 != 0 } && b0.allSatisfy { abs($0) <= 1 / Float(authors.rank).squareRoot() }, "W_B ~ U(±1/√R)")
        let before = try XCTUnwrap(straight.validationLoss())
        for _ in 0..<6 { _ = try straight.trainStep() }
        XCTAssertLessThan(try XCTUnwrap(straight.validationLoss()), before)

        let first = try TrainingTests.makeTrainer(.lora, steps: 6, lr: 1e-2, configure: configure)
        XCTAssertEqual(first.adapters.parameters.values.values(IMSMGate.nameB), b0, "seeded: the same W_B")
        for _ in 0..<3 { _ = try first.trainStep() }
        let folder = dir.appendingPathComponent(Checkpoint.name(step: 3))
        try Checkpoint.save(first, modelPath: "tiny-llama", to: folder, optimizer: true)
        XCTAssertEqual(try Checkpoint.readState(folder).method.imsm?.gate, .authors, "state.json records the gate variant")
        let resumed = try TrainingTests.makeTrainer(.lora, steps: 6, lr: 1e-2, configure: configure)
        try resumed.resume(from: folder)
        for _ in 3..<6 { _ = try resumed.trainStep() }
        assertSameRunState(resumed, straight, "lora + imsm authors")
        let loraStyle = try TrainingTests.makeTrainer(.lora, steps: 6, lr: 1e-2) { $0.imsm = Self.imsm() }
        XCTAssertThrowsError(try loraStyle.resume(from: folder), "a lora-style run resumed an authors checkpoint")

        let one = try DataParallelTests.train(.lora, ranks: 1, imsm: authors)[0]
        let two = try DataParallelTests.train(.lora, ranks: 2, imsm: authors)
        assertBitIdentical(two[1], two[0], "lora + imsm authors: rank 1 vs rank 0")
        XCTAssertLessThanOrEqual(try scaledDifference(two[0], one, "lora + imsm authors: 2 ranks vs 1"), 1e-6)
    }

    func testGateLearningRateReachesOnlyTheGateRange() throws {
        // The optimizer: a range at its own lr equals two separate AdamW runs over the two parts, bit for bit.
        var rng = SeededRandom(seed: 4)
        let n = 40, gate = 25..<40
        let values = rng.normals(n), grads = (0..<3).map { _ in rng.normals(n) }
        let grouped = AdamW(count: n, settings: AdamWSettings())
        let rest = AdamW(count: gate.lowerBound, settings: AdamWSettings()), own = AdamW(count: gate.count, settings: AdamWSettings())
        var p = values, pRest = Array(values[..<gate.lowerBound]), pGate = Array(values[gate])
        for g in grads {
            grouped.update(values: &p, gradients: g, lr: 1e-4, ranges: [(gate, 1e-3)])
            rest.update(values: &pRest, gradients: Array(g[..<gate.lowerBound]), lr: 1e-4)
            own.update(values: &pGate, gradients: Array(g[gate]), lr: 1e-3)
        }
        XCTAssertEqual(p, pRest + pGate)
        XCTAssertEqual(grouped.m.toArray(), rest.m.toArray() + own.m.toArray())
        // Without ranges the update is the plain one.
        let plain = AdamW(count: n, settings: AdamWSettings()), again = AdamW(count: n, settings: AdamWSettings())
        var a = values, b = values
        plain.update(values: &a, gradients: grads[0], lr: 1e-4)
        again.update(values: &b, gradients: grads[0], lr: 1e-4, ranges: [])
        XCTAssertEqual(a, b)

        // The trainer: the gate's range is exactly W_A and W_B, at --imsm-lr scaled by the schedule.
        let trainer = try TrainingTests.makeTrainer(.lora, lr: 1e-4) { $0.imsm = Self.imsm() }
        let layout = trainer.adapters.parameters.layout
        let range = try XCTUnwrap(trainer.adapters.imsmRange)
        XCTAssertEqual(range, layout.entry(IMSMGate.nameA)!.offset..<layout.count)
        XCTAssertEqual(range.count, IMSMGate.parameterCount(mode: .full, width: 64, rank: 4))
        let rates = trainer.groupRates(1e-4)
        XCTAssertEqual(rates.count, 1)
        XCTAssertEqual(rates[0].range, range)
        XCTAssertEqual(rates[0].lr, 1e-3)
        XCTAssertEqual(trainer.groupRates(5e-5)[0].lr, 5e-4, accuracy: 1e-12, "half the peak during warmup: half the gate's lr")
        XCTAssertTrue(try TrainingTests.makeTrainer(.lora).groupRates(1e-4).isEmpty)

        // One step: with the adapter at zero the gate's gradient is zero, so W_A only decays, at the gate's lr.
        let a0 = trainer.adapters.parameters.values.values(IMSMGate.nameA)!
        _ = try trainer.trainStep()
        XCTAssertTrue(trainer.adapters.parameters.gradients.values(IMSMGate.nameA)!.allSatisfy { $0 == 0 })
        let decay = 1 - Float(1e-3) * trainer.options.adamw.weightDecay
        XCTAssertEqual(trainer.adapters.parameters.values.values(IMSMGate.nameA)!, a0.map { $0 * decay })
    }

    func testAdapterFolderBringsTheGateBack() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("imsm-adapter-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let trainer = try TrainingTests.makeTrainer(.securaM1, lr: 5e-2) { $0.imsm = Self.imsm() }
        for _ in 0..<3 { _ = try trainer.trainStep() }
        let folder = dir.appendingPathComponent("adapter")
        try Checkpoint.save(trainer, modelPath: "tiny-llama", to: folder, optimizer: false)

        let loaded = try ModelLoader.open(FixturePaths.fixture("tiny-llama").path)
        let opened = try AdapterLoader.open(folder.path, config: loaded.config, base: loaded.source)
        XCTAssertEqual(opened.settings.imsm, Self.imsm())
        XCTAssertNotNil(opened.model.mixer)
        XCTAssertEqual(opened.parameters.values.values(IMSMGate.nameB), trainer.adapters.parameters.values.values(IMSMGate.nameB))
        // The same logits as the trained model, full forward and generation.
        let example = TrainingTests.examples(seed: 9, count: 1)[0]
        let batch = TokenBatch(tokens: example.tokens, batch: 1, length: example.tokens.count, promptLengths: [example.promptLength])
        func logits(_ model: DecoderModel) -> [Float] {
            let acts = DecoderActivations(config: model.config, batch: 1, length: batch.length)
            model.forward(batch, into: acts)
            return acts.logits.toArray()
        }
        XCTAssertEqual(logits(opened.model), logits(trainer.adapters.model))
        let prompt = Array(example.tokens.prefix(example.promptLength))
        XCTAssertEqual(try opened.model.generate(prompt: prompt, maxNewTokens: 5, stopTokens: []).tokens,
                       try trainer.adapters.model.generate(prompt: prompt, maxNewTokens: 5, stopTokens: []).tokens)
        // Without the gate (the adapter alone) the logits differ: the gate is really in use.
        let mixer = opened.model.mixer
        opened.model.mixer = nil
        let alone = logits(opened.model)
        opened.model.mixer = mixer
        XCTAssertNotEqual(alone, logits(opened.model))

        // Single-model exports cannot hold the gate.
        XCTAssertThrowsError(try MergedExport.write(opened, base: loaded.source, tensorNames: loaded.tensors.map(\.name),
                                                    config: loaded.raw, to: dir.appendingPathComponent("merged"),
                                                    dtype: .f32, tokenizerFiles: [])) { error in
            XCTAssertTrue("\(error)".contains("IMSM"), "\(error)")
        }
        let lora = try TrainingTests.makeTrainer(.lora) { $0.imsm = Self.imsm() }
        XCTAssertThrowsError(try PEFTFormat.export(lora.adapters, to: dir.appendingPathComponent("peft"), baseModel: "tiny")) { error in
            XCTAssertTrue("\(error)".contains("IMSM"), "\(error)")
        }
    }

    func testSettingsWithoutIMSMStillDecode() throws {
        let json = try JSONEncoder().encode(MethodSettings())
        XCTAssertFalse(String(decoding: json, as: UTF8.self).contains("imsm"), "settings without IMSM are written as before")
        XCTAssertNil(try JSONDecoder().decode(MethodSettings.self, from: json).imsm)
        var s = MethodSettings()
        s.imsm = Self.imsm(.noQuery)
        XCTAssertEqual(try JSONDecoder().decode(MethodSettings.self, from: JSONEncoder().encode(s)), s)
    }

    func testOneAndTwoRanksAgree() throws {
        for method in [AdapterMethod.lora, .securaM1] {
            let one = try DataParallelTests.train(method, ranks: 1, imsm: Self.imsm())[0]
            let two = try DataParallelTests.train(method, ranks: 2, imsm: Self.imsm())
            assertBitIdentical(two[1], two[0], "\(method.rawValue) + imsm: rank 1 vs rank 0")
            let worst = try scaledDifference(two[0], one, "\(method.rawValue) + imsm: 2 ranks vs 1")
            XCTAssertLessThanOrEqual(worst, 1e-6, "\(method.rawValue) + imsm: 2 ranks vs 1")
            print("data parallel \(method.rawValue) + imsm: 2 ranks vs 1: max difference / max value = \(worst)")
        }
    }
}
