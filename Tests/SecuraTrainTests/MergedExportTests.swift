// A merged model (adapters folded into the weights) gives the same logits as the base model with its
// adapters attached, for every method; and adapter folders reload to the same logits.
import Foundation
import XCTest
import SecuraAdapters
import SecuraIO
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

    /// Mean next-token loss of `tokens` under `decoder` (what `secura-dist score` prints).
    static func scoreLoss(_ decoder: DecoderModel, _ tokens: [Int32]) -> Double {
        let batch = TokenBatch(tokens: tokens, batch: 1, length: tokens.count)
        let acts = DecoderActivations(config: decoder.config, batch: 1, length: tokens.count)
        decoder.forward(batch, into: acts)
        let (sum, count) = decoder.crossEntropy(acts, targets: batch.nextTokenTargets)
        return sum / Double(count)
    }

    func testShardedExportLoadsBackWithTheAdaptedLoss() throws {
        let base = try ModelLoader.open(FixturePaths.fixture("tiny-llama").path)
        let tokens: [Int32] = [3, 17, 99, 4, 250, 31, 8, 77, 5]
        let root = ShardedCheckpointTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        // SECURA-M1 saved by 3 ranks (masters in per-rank files), and LoRA.
        let m1 = root.appendingPathComponent("m1")
        _ = try ShardedCheckpointTests.trainAndSave(ranks: 3, perNode: 3, steps: 2, to: m1)
        let lora = root.appendingPathComponent("lora")
        let trainer = try TrainingTests.makeTrainer(.lora, steps: 2, lr: 2e-2)
        for _ in 0..<2 { _ = try trainer.trainStep() }
        try Checkpoint.save(trainer, modelPath: "tiny-llama", to: lora, optimizer: false)

        for (adapterFolder, dtype) in [(m1, DType.f32), (lora, .f32), (m1, .bf16)] {
            let adapted = try AdapterLoader.open(adapterFolder.path, config: base.config, base: base.source)
            let expected = Self.scoreLoss(adapted.model, tokens)
            XCTAssertNotEqual(expected, Self.scoreLoss(try base.decoder(), tokens), "the adapter changes the loss")

            let out = root.appendingPathComponent("export-\(adapterFolder.lastPathComponent)-\(dtype.rawValue)")
            try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
            try Data("stale".utf8).write(to: out.appendingPathComponent("model.safetensors"))   // an earlier export
            let lean = try AdapterLoader.open(adapterFolder.path, config: base.config, base: base.source, loadMasters: false)
            XCTAssertTrue(lean.masters.isEmpty)
            let stored = try AdapterLoader.storedMasters(adapterFolder.path, adapters: lean)
            XCTAssertEqual(stored == nil, adapterFolder == lora)
            var reports: [ExportProgress] = []
            let names = base.tensors.map(\.name)
            try MergedExport.write(lean, base: base.source, tensorNames: names, config: base.raw, to: out, dtype: dtype,
                                   tokenizerFiles: [], shardSize: 40_000, current: { try stored?.weight($0) }) { reports.append($0) }
            let shards = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasPrefix("model-") }.sorted()
            XCTAssertGreaterThanOrEqual(shards.count, 2)
            XCTAssertEqual(reports.count, shards.count)
            XCTAssertEqual(reports.last?.bytesWritten, reports.last?.totalBytes)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("model.safetensors").path),
                           "the stale single file is removed (it would shadow the index)")

            // The index: valid JSON, total_size = data bytes, every tensor exactly once in an existing shard.
            let index = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("model.safetensors.index.json"))) as! [String: Any]
            let map = try XCTUnwrap(index["weight_map"] as? [String: String])
            XCTAssertEqual(map.keys.sorted(), names.sorted())
            XCTAssertEqual(Set(map.values), Set(shards))
            var total = 0
            for shard in shards {
                let file = try SafeTensorsFile(path: out.appendingPathComponent(shard).path)
                XCTAssertEqual(Set(file.names), Set(map.filter { $0.value == shard }.keys), "\(shard) holds what the index says")
                total += file.counts.bytes
            }
            XCTAssertEqual((index["metadata"] as? [String: Any])?["total_size"] as? Int, total)

            let exported = try ModelLoader.open(out.path)
            let loss = Self.scoreLoss(try exported.decoder(), tokens)
            let tolerance = dtype == .f32 ? 1e-5 : 2e-2
            XCTAssertEqual(loss, expected, accuracy: tolerance * abs(expected), "\(adapterFolder.lastPathComponent) \(dtype) export loss")
            print("sharded export \(adapterFolder.lastPathComponent) \(dtype): \(shards.count) shards, loss \(loss) vs adapted \(expected)")

            // Exported again into the same folder as one shard: model.safetensors only, the shards and index gone.
            try MergedExport.write(lean, base: base.source, tensorNames: names, config: base.raw, to: out, dtype: dtype,
                                   tokenizerFiles: [], current: { try stored?.weight($0) })
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted(), ["config.json", "model.safetensors"])
            XCTAssertEqual(Self.scoreLoss(try ModelLoader.open(out.path).decoder(), tokens), loss, "one shard or many: the same model")
        }
    }

    func testExportFromAShardedBF16InputKeepsTheAdaptedLoss() throws {
        // A LoRA adapter trained on tiny-llama applied to its bf16 copy sharded over several input files.
        let base = try ModelLoader.open(FixturePaths.fixture("tiny-llama-bf16-sharded").path)
        let tokens: [Int32] = [3, 17, 99, 4, 250, 31, 8, 77, 5]
        let root = ShardedCheckpointTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let trainer = try TrainingTests.makeTrainer(.lora, steps: 2, lr: 2e-2)
        for _ in 0..<2 { _ = try trainer.trainStep() }
        try Checkpoint.save(trainer, modelPath: "tiny-llama", to: root.appendingPathComponent("lora"), optimizer: false)
        let adapters = try AdapterLoader.open(root.appendingPathComponent("lora").path, config: base.config, base: base.source)
        let expected = Self.scoreLoss(adapters.model, tokens)
        XCTAssertGreaterThan(abs(expected - Self.scoreLoss(try base.decoder(), tokens)), 1e-4 * abs(expected), "the adapter changes the loss")
        for dtype in [DType.bf16, .f32] {
            let out = root.appendingPathComponent("merged-\(dtype.rawValue)")
            try MergedExport.write(adapters, base: base.source, tensorNames: base.tensors.map(\.name), config: base.raw, to: out,
                                   dtype: dtype, tokenizerFiles: [], shardSize: 30_000)
            let exported = try ModelLoader.open(out.path)
            XCTAssertNotNil((exported.source as? SafeTensorsModel)?.indexPath, "a sharded output")
            // bf16 in, bf16 out: untouched tensors are byte copies, so only the merged weights are rounded.
            let loss = Self.scoreLoss(try exported.decoder(), tokens)
            XCTAssertEqual(loss, expected, accuracy: (dtype == .f32 ? 1e-5 : 1e-2) * abs(expected), "\(dtype) export of a sharded input")
            let name = ParameterName.embedding
            let original = try base.source.view(name).toFloatArray(), copied = try exported.source.view(name).toFloatArray()
            XCTAssertEqual(copied, original, "an untouched tensor is copied exactly")
        }
    }

    /// b_Δ (`--delta-bias`) goes into the projection's bias of a merged export (Qwen2: q/k/v have biases),
    /// and the export reproduces the adapted model; a model without that bias (Llama) refuses, naming it.
    func testDeltaBiasIsMergedIntoTheProjectionBias() throws {
        let tokens: [Int32] = [3, 17, 99, 4, 250, 31, 8]
        let root = ShardedCheckpointTests.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        for (fixture, method) in [("tiny-qwen2", AdapterMethod.securaM1), ("tiny-qwen2", .securaM2), ("tiny-llama", .cabrLoRA)] {
            let base = try ModelLoader.open(FixturePaths.fixture(fixture).path)
            var s = MethodSettings()
            s.method = method
            s.cabrInit = .slice
            s.curRank = 8
            s.cabrM = 10
            s.deltaBias = true
            let adapters = try AdapterSet(config: base.config, base: base.source, settings: s, seed: 3, solver: NoSVD())
            var rng = SeededRandom(seed: 8)
            for entry in adapters.parameters.layout.entries {
                let p = adapters.parameters.values.pointer(entry.name)!
                for i in 0..<entry.count { p[i] = rng.normal() * (entry.name.hasSuffix("cabr_bias") ? 0.05 : 0.02) }
            }
            XCTAssertEqual(adapters.parameters.layout.entries.filter { $0.name.hasSuffix(".cabr_bias") }.count, adapters.plans.count)
            let expected = Self.scoreLoss(adapters.model, tokens)
            let out = root.appendingPathComponent("\(fixture)-\(method.rawValue)")
            let names = base.tensors.map(\.name)
            if base.config.qkvBias {
                try MergedExport.write(adapters, base: base.source, tensorNames: names, config: base.raw, to: out, dtype: .f32,
                                       tokenizerFiles: [])
                let exported = try ModelLoader.open(out.path)
                let loss = Self.scoreLoss(try exported.decoder(), tokens)
                XCTAssertEqual(loss, expected, accuracy: 1e-5 * abs(expected), "\(fixture) \(method.rawValue): export loss")
                let site = adapters.plans[0].site
                let biasName = String(site.weightName.dropLast("weight".count)) + "bias"
                let written = try exported.source.view(biasName).toFloatArray()
                let original = try base.source.view(biasName).toFloatArray()
                let change = try XCTUnwrap(adapters.sites[site]?.biasChange)
                XCTAssertEqual(written, (0..<original.count).map { original[$0] + change[$0] }, "\(biasName) = bias + b_Δ")
            } else {
                XCTAssertThrowsError(try MergedExport.write(adapters, base: base.source, tensorNames: names, config: base.raw,
                                                            to: out, dtype: .f32, tokenizerFiles: [])) { error in
                    XCTAssertTrue("\(error)".contains("q_proj"), "\(error)")
                }
                XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "no folder presented as an export")
            }
        }
    }
}
