// A merged model (adapters folded into the weights) gives the same logits as the base model with its
// adapters attached, for every method; and adapter folders reload to the same logits.
import Foundation
import XCTest
import SecuraAdapters
import SecuraModel
import TestSupport
@testable import SecuraTrain

final class MergedExportTests: XCTestCase {
    func testMergedWeightsReproduceTheAdaptedModel() throws {
        let loaded = try ModelLoader.open(FixturePaths.fixture("tiny-llama").path)
        let tokens: [Int32] = [3, 17, 99, 4, 250, 31, 8]
        let batch = TokenBatch(tokens: tokens, batch: 1, length: tokens.count)
        for method in AdapterMethod.allCases {
            let trainer = try TrainingTests.makeTrainer(method, steps: 3, lr: 2e-2) { $0.fusionStep = 2 }
            for _ in 0..<3 { _ = try trainer.trainStep() }   // step 3 leaves an unmerged B for SECURA
            let adapters = trainer.adapters
            let acts = DecoderActivations(config: loaded.config, batch: 1, length: tokens.count)
            adapters.model.forward(batch, into: acts, training: false)
            let overlay = OverlayWeights(base: loaded.source)
            for plan in adapters.plans {
                let original = try loaded.source.view(plan.site.weightName)
                let merged = FloatBuffer(try MergedExport.mergedWeight(adapters, site: plan.site, original: original))
                overlay.set(plan.site.weightName, WeightView(name: plan.site.weightName, dtype: .f32, shape: original.shape,
                                                             data: UnsafeRawPointer(merged.pointer), owner: merged))
            }
            let plain = try DecoderModel(config: loaded.config, source: overlay)
            let mergedActs = DecoderActivations(config: loaded.config, batch: 1, length: tokens.count)
            plain.forward(batch, into: mergedActs)
            assertAllClose(mergedActs.logits.toArray(), acts.logits.toArray(), atol: 1e-4, rtol: 1e-4, "\(method.rawValue) merged logits")

            // The saved adapter folder reloads to the same model.
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("adapter-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: dir) }
            try Checkpoint.save(trainer, modelPath: "tiny-llama", to: dir, optimizer: false)
            let reloaded = try AdapterLoader.open(dir.path, config: loaded.config, base: loaded.source)
            let reActs = DecoderActivations(config: loaded.config, batch: 1, length: tokens.count)
            reloaded.model.forward(batch, into: reActs, training: false)
            XCTAssertEqual(reActs.logits.toArray(), acts.logits.toArray(), "\(method.rawValue) reloaded logits")
        }
    }
}
