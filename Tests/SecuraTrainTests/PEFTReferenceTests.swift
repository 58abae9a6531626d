// LoRA and DoRA against Hugging Face PEFT (Tests/Fixtures/peft, made by make_peft_reference.py): from the
// same start adapter, the logits, loss and every adapter gradient, then 10 clipped AdamW steps.
import Foundation
import XCTest
import SecuraAdapters
import SecuraDistributed
import SecuraIO
import SecuraModel
import TestSupport
@testable import SecuraTrain

final class PEFTReferenceTests: XCTestCase {
    struct Reference: Decodable {
        let tokens: [[Int32]]
        let loss: Double
        let losses: [Double]
    }

    func check(_ name: String, model: String) throws {
        let folder = FixturePaths.fixture("peft/\(name)")
        let ref = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: folder.appendingPathComponent("reference.json")))
        let dumps = try SafeTensorsFile(path: folder.appendingPathComponent("reference.safetensors").path)
        let loaded = try ModelLoader.open(FixturePaths.fixture(model).path)
        let settings = try PEFTFormat.settings(PEFTFormat.readConfig(folder), path: folder.path)
        let adapters = try AdapterSet(config: loaded.config, base: loaded.source, settings: settings, seed: 0, solver: NoSVD())
        try PEFTFormat.load(folder, into: adapters)
        let examples = ref.tokens.map { TrainingExample(tokens: $0, lossMask: $0.indices.map { $0 >= 5 }) }

        // Forward and gradients at the start.
        let (batch, targets) = TokenBatch.padded(examples, padToken: 0)
        let acts = DecoderActivations(config: loaded.config, batch: batch.batch, length: batch.length)
        adapters.context.rowSeeds = AdapterContext.rowSeeds(seed: 0, step: 0, samples: [0, 1], length: batch.length)
        adapters.model.forward(batch, into: acts, training: true)
        assertAllClose(acts.logits.toArray(), try dumps.floats("logits"), atol: 1e-5, rtol: 1e-4, "\(name) logits")
        let (sum, count) = adapters.model.crossEntropy(acts, targets: targets)
        XCTAssertEqual(sum / Double(count), ref.loss, accuracy: 1e-5 + 1e-4 * ref.loss, "\(name) loss")
        adapters.parameters.gradients.zero()
        adapters.model.backward(batch, acts: acts, targets: targets, lossWeight: 1 / Float(count),
                                gradients: adapters.parameters.gradients)
        XCTAssertFalse(adapters.parameters.layout.entries.isEmpty, "\(name): no trainable tensors to compare")
        for e in adapters.parameters.layout.entries {
            assertAllClose(adapters.parameters.gradients.values(e.name)!, try dumps.floats("grad." + PEFTFormat.peftName(e.name)),
                           atol: 1e-4, rtol: 1e-3, "\(name) grad \(e.name)")
        }

        // Ten clipped AdamW steps on the same batch.
        var options = TrainingOptions()
        options.steps = 10
        options.batchSize = 2
        options.microBatch = 2
        options.schedule = LRSchedule(kind: .constant, base: 1e-2, warmup: 0, total: 10)
        options.clipNorm = 1
        let trainer = try Trainer(adapters: adapters, options: options, comm: SingleProcessCommunicator(),
                                  train: examples, validation: examples)
        for k in 0..<10 {
            let report = try trainer.trainStep()
            XCTAssertEqual(report.loss, ref.losses[k], accuracy: 1e-4 * ref.losses[k], "\(name) loss before step \(k + 1)")
        }
        let final = try XCTUnwrap(trainer.validationLoss())
        XCTAssertEqual(final, ref.losses[10], accuracy: 1e-4 * ref.losses[10], "\(name) loss after 10 steps")
        for e in adapters.parameters.layout.entries {
            assertAllClose(adapters.parameters.values.values(e.name)!, try dumps.floats("final." + PEFTFormat.peftName(e.name)),
                           atol: 1e-4, rtol: 1e-3, "\(name) final \(e.name)")
        }
    }

    func testLoRALlama() throws { try check("tiny-llama-lora", model: "tiny-llama") }
    func testLoRAQwen2() throws { try check("tiny-qwen2-lora", model: "tiny-qwen2") }
    func testDoRALlama() throws { try check("tiny-llama-dora", model: "tiny-llama") }
    func testDoRAQwen2() throws { try check("tiny-qwen2-dora", model: "tiny-qwen2") }
    func testLoRAOnAllProjections() throws { try check("tiny-llama-lora-all", model: "tiny-llama") }

    func testMergedWeightsMatchPEFT() throws {
        let folder = FixturePaths.fixture("peft/tiny-llama-lora")
        let dumps = try SafeTensorsFile(path: folder.appendingPathComponent("reference.safetensors").path)
        let loaded = try ModelLoader.open(FixturePaths.fixture("tiny-llama").path)
        let settings = try PEFTFormat.settings(PEFTFormat.readConfig(folder), path: folder.path)
        let adapters = try AdapterSet(config: loaded.config, base: loaded.source, settings: settings, seed: 0, solver: NoSVD())
        try PEFTFormat.load(folder, into: adapters)
        XCTAssertFalse(adapters.sites.isEmpty)
        for (site, methodSite) in adapters.sites {
            var w = try loaded.source.view(site.weightName).toFloatArray()
            try w.withUnsafeMutableBufferPointer { try methodSite.merge(into: $0.baseAddress!) }
            assertAllClose(w, try dumps.floats("merged." + site.weightName), atol: 1e-5, rtol: 1e-5, "merged \(site.weightName)")
        }
    }

    func testExportRoundTripsThroughPEFTFormat() throws {
        let folder = FixturePaths.fixture("peft/tiny-qwen2-dora")
        let loaded = try ModelLoader.open(FixturePaths.fixture("tiny-qwen2").path)
        let settings = try PEFTFormat.settings(PEFTFormat.readConfig(folder), path: folder.path)
        let adapters = try AdapterSet(config: loaded.config, base: loaded.source, settings: settings, seed: 0, solver: NoSVD())
        try PEFTFormat.load(folder, into: adapters)
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("peft-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: out) }
        try PEFTFormat.export(adapters, to: out, baseModel: "tiny-qwen2")
        let again = try AdapterSet(config: loaded.config, base: loaded.source, settings: settings, seed: 9, solver: NoSVD())
        try PEFTFormat.load(out, into: again)
        XCTAssertEqual(again.parameters.values.storage.toArray(), adapters.parameters.values.storage.toArray())
    }
}
