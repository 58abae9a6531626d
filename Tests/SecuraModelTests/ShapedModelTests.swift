// make-model's library side: the catalogue's parameter counts and shard counts computed from the configs
// through the same DecoderConfig code `inspect` uses (no weights written), and small shape-faithful
// folders written for real: they load through ModelLoader with the planned names, shapes, dtypes and
// index, the weights follow the documented distribution, and the bytes depend on the seed only.
import Foundation
import SecuraIO
import SecuraKernels
import SecuraModel
import SecuraTensor
import TestSupport
import XCTest

final class ShapedModelTests: XCTestCase {
    func testCatalogueParameterCountsAreTheRealModels() throws {
        let expected = ["llama-3-8b": 8_030_261_248, "llama-3.1-8b": 8_030_261_248, "qwen2-7b": 7_615_616_512,
                        "qwen2-1.5b": 1_543_714_304, "llama-3.2-1b": 1_235_814_400, "gemma2-2b": 2_614_341_888]
        XCTAssertEqual(Set(ModelShape.catalogue.map(\.name)), Set(expected.keys))
        for (name, count) in expected {
            XCTAssertEqual(try ModelShape.named(name).decoderConfig().parameterCount, count, name)
        }
    }

    func testCatalogueConfigsResolveToTheRealArchitectures() throws {
        let llama31 = try ModelShape.named("llama-3.1-8b").decoderConfig()
        XCTAssertEqual(llama31.ropeScaling, .llama3(factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192))
        XCTAssertEqual(llama31.ropeTheta, 500_000)
        XCTAssertEqual(llama31.maxPositions, 131_072)
        let qwen7 = try ModelShape.named("qwen2-7b").decoderConfig()
        XCTAssertEqual(qwen7.architecture, .qwen2)
        XCTAssertTrue(qwen7.qkvBias)
        XCTAssertFalse(qwen7.tieWordEmbeddings)
        XCTAssertEqual([qwen7.hiddenSize, qwen7.layers, qwen7.heads, qwen7.kvHeads, qwen7.intermediateSize, qwen7.vocabSize],
                       [3584, 28, 28, 4, 18944, 152_064])
        XCTAssertEqual(qwen7.ropeTheta, 1_000_000)
        let llama32 = try ModelShape.named("llama-3.2-1b").decoderConfig()
        XCTAssertTrue(llama32.tieWordEmbeddings)
        XCTAssertEqual(llama32.ropeScaling, .llama3(factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192))
        let llama3 = try ModelShape.named("llama-3-8b").decoderConfig()
        XCTAssertEqual(llama3.ropeScaling, RoPEScaling.none)
        XCTAssertEqual(llama3.rmsNormEps, 1e-5)
        let twoLayers = try ModelShape.llama3_8b.withLayers(2).decoderConfig()
        XCTAssertEqual(twoLayers.layers, 2)
        XCTAssertEqual(twoLayers.hiddenSize, 4096)
        XCTAssertEqual(twoLayers.parameterCount, 2 * 525_336_576 + 4096 + 2 * 218_112_000)
        let gemma = try ModelShape.named("gemma2-2b").decoderConfig()
        XCTAssertEqual(gemma.architecture, .gemma2)
        XCTAssertEqual([gemma.hiddenSize, gemma.layers, gemma.heads, gemma.kvHeads, gemma.headDim, gemma.intermediateSize,
                        gemma.vocabSize], [2304, 26, 8, 4, 256, 9216, 256_000])
        XCTAssertTrue(gemma.tieWordEmbeddings)
        XCTAssertEqual(gemma.attentionScale, 1 / 16)
        XCTAssertEqual([gemma.attentionSoftcap, gemma.finalSoftcap], [50, 30])
        XCTAssertEqual(gemma.slidingWindow, 4096)
        XCTAssertEqual(gemma.slidingLayers, (0..<26).map { $0 % 2 == 0 })
        XCTAssertEqual(gemma.embeddingScale, 48)
        XCTAssertEqual(ShapedWeights.kind(of: "model.norm.weight", normOffset: gemma.normWeightOffset), .constant(0))
    }

    func testDefaultShardingMatchesTheReleases() throws {
        for shape in ModelShape.catalogue {
            // Each release's own dtype: bf16, except gemma-2-2b, which ships float32.
            let dtype: DType = shape.config["torch_dtype"] == .string("float32") ? .f32 : .bf16
            let plan = try ShapedModelPlan(shape: shape, dtype: dtype, shardBytes: 5_000_000_000)
            XCTAssertEqual(plan.shards.count, shape.releasedShards, shape.name)
            XCTAssertEqual(plan.totalBytes, dtype.byteSize * plan.parameterCount, shape.name)
            XCTAssertTrue(plan.shards.allSatisfy { $0.byteCount <= 5_000_000_000 }, shape.name)
        }
        // Meta-Llama-3-8B's index: total_size 16,060,522,496; shards named as transformers names them.
        let plan = try ShapedModelPlan(shape: ModelShape.llama3_8b, dtype: .bf16, shardBytes: 5_000_000_000)
        XCTAssertEqual(plan.totalBytes, 16_060_522_496)
        XCTAssertEqual(plan.shards.map(\.file), (1...4).map { "model-0000\($0)-of-00004.safetensors" })
        XCTAssertEqual(plan.shards.first?.tensors.first?.name, "model.embed_tokens.weight")
        XCTAssertEqual(plan.shards.last?.tensors.last?.name, "lm_head.weight")
        XCTAssertEqual(try ShapedModelPlan(shape: ModelShape.qwen2_1_5b, dtype: .bf16, shardBytes: 5_000_000_000)
            .shards.map(\.file), ["model.safetensors"])
    }

    func testUnknownShapeNamesTheKnownOnes() {
        XCTAssertThrowsError(try ModelShape.named("llama-2-7b")) { error in
            XCTAssertEqual(error as? ShapedModelError, .unknownShape(name: "llama-2-7b", known: ModelShape.catalogue.map(\.name)))
            XCTAssertTrue("\(error)".contains("llama-3-8b"), "\(error)")
        }
    }

    func testDistributionOfGeneratedValues() {
        let n = 200_000
        let values = (0..<n).map { ShapedWeights.value(key: ShapedWeights.key(seed: 7, name: "w"), kind: .bell(std: 0.02), index: $0) }
        let mean = values.reduce(0, +) / Float(n)
        let std = (values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(n)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 3e-4)
        XCTAssertEqual(std, 0.02, accuracy: 4e-4)
        XCTAssertLessThanOrEqual(values.map(abs).max() ?? .infinity, 0.02 * 3.4642)
        XCTAssertEqual(ShapedWeights.kind(of: "model.layers.0.input_layernorm.weight"), .constant(1))
        XCTAssertEqual(ShapedWeights.kind(of: "model.norm.weight"), .constant(1))
        XCTAssertEqual(ShapedWeights.kind(of: "model.layers.0.self_attn.q_proj.bias"), .bell(std: 0.01))
        XCTAssertEqual(ShapedWeights.kind(of: "lm_head.weight"), .bell(std: 0.02))
    }

    func testFillDoesNotDependOnThreadsOrChunks() {
        let n = 300_001, key = ShapedWeights.key(seed: 3, name: "model.embed_tokens.weight")
        func fill(threads: Int, chunk: Int) -> [Float] {
            var out = [Float](repeating: .nan, count: n)
            out.withUnsafeMutableBufferPointer { all in
                var start = 0
                while start < n {
                    let count = min(chunk, n - start)
                    ShapedWeights.fill(UnsafeMutableBufferPointer(rebasing: all[start..<(start + count)]), key: key,
                                       kind: .bell(std: 0.02), start: start, threads: threads)
                    start += count
                }
            }
            return out
        }
        let reference = fill(threads: 1, chunk: n)
        XCTAssertGreaterThan(Set(reference).count, 100, "the values must vary")
        assertBitIdentical(fill(threads: 3, chunk: n), reference, "3 threads")
        assertBitIdentical(fill(threads: 2, chunk: 70_000), reference, "2 threads, chunks of 70,000")
    }

    /// A Llama 3.1–like shape small enough to write in a test, with a vocabulary and widths that make
    /// every tensor distinct in size.
    static func tinyLlama() -> ModelShape {
        var shape = ModelShape.llama3_1_8b.withLayers(2)
        shape.name = "tiny-llama-3.1"
        shape.config["hidden_size"] = .int(64)
        shape.config["intermediate_size"] = .int(160)
        shape.config["num_attention_heads"] = .int(4)
        shape.config["num_key_value_heads"] = .int(2)
        shape.config["vocab_size"] = .int(384)
        return shape
    }

    /// A Qwen2-like shape: q/k/v biases, tied embeddings.
    static func tinyQwen() -> ModelShape {
        var shape = ModelShape.qwen2_1_5b.withLayers(1)
        shape.name = "tiny-qwen2"
        shape.config["hidden_size"] = .int(48)
        shape.config["intermediate_size"] = .int(96)
        shape.config["num_attention_heads"] = .int(4)
        shape.config["num_key_value_heads"] = .int(2)
        shape.config["vocab_size"] = .int(320)
        return shape
    }

    private func write(_ shape: ModelShape, to folder: String, seed: UInt64 = 1, threads: Int = 1,
                       chunk: Int = SafeTensorsWriter.chunkElements, shardBytes: Int = 40_000, dtype: DType = .bf16) throws -> ShapedModelPlan {
        var options = ShapedModelOptions(shape: shape, output: folder)
        options.seed = seed
        options.threads = threads
        options.chunkElements = chunk
        options.shardBytes = shardBytes
        options.dtype = dtype
        return try ShapedModelWriter.write(options)
    }

    func testShardedFolderLoadsWithThePlannedTensors() throws {
        let dir = try TempDirectory()
        let folder = dir.path("model")
        var reports = 0
        var options = ShapedModelOptions(shape: Self.tinyLlama(), output: folder)
        options.shardBytes = 40_000
        let plan = try ShapedModelWriter.write(options) { _ in reports += 1 }
        XCTAssertGreaterThan(plan.shards.count, 2)
        XCTAssertGreaterThanOrEqual(reports, plan.config.parameterLayout.entries.count)
        XCTAssertEqual(Set(try dir.contents(of: "model")),
                       Set(plan.shards.map(\.file) + ["config.json", "generation_config.json", "model.safetensors.index.json"]))

        let loaded = try ModelLoader.open(folder)
        XCTAssertEqual(loaded.config, plan.config)
        XCTAssertEqual(loaded.raw.num_hidden_layers, 2)
        XCTAssertEqual(loaded.raw.torch_dtype, "bfloat16")
        let layout = plan.config.parameterLayout
        XCTAssertEqual(loaded.tensors.count, layout.entries.count)
        for t in loaded.tensors {
            XCTAssertEqual(t.dtype, "BF16", t.name)
            XCTAssertEqual(layout.entry(t.name)?.shape, t.shape, t.name)
        }
        let decoder = try loaded.decoder()
        XCTAssertEqual(decoder.parameterCount, plan.parameterCount)
        XCTAssertEqual(decoder.parameterLayout.count, plan.parameterCount, "the model's own layout agrees")

        let weights = try SafeTensorsModel(path: folder)
        XCTAssertEqual(weights.files.count, plan.shards.count)
        let norm = try weights.view("model.layers.1.post_attention_layernorm.weight").toFloatArray()
        XCTAssertEqual(norm, [Float](repeating: 1, count: 64))
        let head = try weights.view("lm_head.weight").toFloatArray()
        let std = (head.map { $0 * $0 }.reduce(0, +) / Float(head.count)).squareRoot()
        XCTAssertEqual(std, 0.02, accuracy: 0.002)
        XCTAssertNotEqual(head, try weights.view("model.embed_tokens.weight").toFloatArray(), "tensors must differ")

        let index = try String(contentsOfFile: folder + "/model.safetensors.index.json", encoding: .utf8)
        XCTAssertTrue(index.contains("\"total_size\": \(plan.totalBytes)"), index)
    }

    func testQwenShapeWithBiasesAndTiedHeadInF16() throws {
        let dir = try TempDirectory()
        let plan = try write(Self.tinyQwen(), to: dir.path("q"), shardBytes: 5_000_000_000, dtype: .f16)
        XCTAssertEqual(try dir.contents(of: "q"), ["config.json", "generation_config.json", "model.safetensors"])
        let loaded = try ModelLoader.open(dir.path("q"))
        XCTAssertEqual(loaded.raw.torch_dtype, "float16")
        XCTAssertTrue(loaded.config.qkvBias && loaded.config.tieWordEmbeddings)
        XCTAssertFalse(loaded.tensors.contains { $0.name == "lm_head.weight" })
        XCTAssertTrue(loaded.tensors.allSatisfy { $0.dtype == "F16" })
        let bias = try loaded.source.view("model.layers.0.self_attn.k_proj.bias").toFloatArray()
        XCTAssertEqual(bias.count, 24, "2 KV heads × head dim 12")
        XCTAssertTrue(bias.contains { $0 != 0 } && bias.allSatisfy { abs($0) < 0.035 })
        XCTAssertEqual(try loaded.decoder().parameterCount, plan.parameterCount)
    }

    func testBytesDependOnTheSeedOnly() throws {
        let dir = try TempDirectory()
        let a = try write(Self.tinyLlama(), to: dir.path("a"), seed: 5, threads: 1)
        _ = try write(Self.tinyLlama(), to: dir.path("b"), seed: 5, threads: 4, chunk: 999)
        _ = try write(Self.tinyLlama(), to: dir.path("c"), seed: 6)
        func bytes(_ folder: String, _ file: String) -> Data? { FileManager.default.contents(atPath: dir.path(folder) + "/" + file) }
        for file in a.shards.map(\.file) + ["config.json", "model.safetensors.index.json"] {
            XCTAssertNotNil(bytes("a", file), file)
            XCTAssertEqual(bytes("a", file), bytes("b", file), "\(file): threads and chunking must not matter")
        }
        for file in a.shards.map(\.file) {
            XCTAssertNotEqual(bytes("a", file), bytes("c", file), "\(file): another seed must give other weights")
        }
    }

    func testExistingFolderIsRefusedUnlessForced() throws {
        let dir = try TempDirectory()
        let folder = try dir.makeFolder("m")
        try dir.write("old", to: "m/model.safetensors")
        XCTAssertThrowsError(try write(Self.tinyQwen(), to: folder)) { error in
            XCTAssertEqual(error as? ShapedModelError, .outputNotEmpty(path: folder))
            // The library names the setting; the command line shows its flag (launch/test-cli.sh checks "--force").
            XCTAssertTrue("\(error)".contains("the overwrite setting (force)"), "\(error)")
        }
        XCTAssertEqual(try dir.contents(of: "m"), ["model.safetensors"], "a refusal writes nothing")
        let file = try dir.write("x", to: "plain")
        XCTAssertThrowsError(try write(Self.tinyQwen(), to: file)) { error in
            XCTAssertEqual(error as? ShapedModelError, .notAFolder(path: file))
        }

        // Forced and sharded: the stale single file must go, or it would shadow the new index.
        var options = ShapedModelOptions(shape: Self.tinyQwen(), output: folder)
        options.force = true
        options.shardBytes = 20_000
        try ShapedModelWriter.write(options)
        XCTAssertFalse(try dir.contents(of: "m").contains("model.safetensors"))
        XCTAssertNoThrow(try ModelLoader.open(folder).decoder())
    }

    func testInsufficientSpaceIsRefusedWithBothNumbers() throws {
        let dir = try TempDirectory()
        XCTAssertNoThrow(try ShapedModelWriter.requireSpace(1, in: dir.path))
        XCTAssertThrowsError(try ShapedModelWriter.requireSpace(1 << 62, in: dir.path)) { error in
            guard case let .insufficientSpace(path, needed, available)? = error as? ShapedModelError else {
                return XCTFail("expected insufficientSpace, got \(error)")
            }
            XCTAssertEqual(path, dir.path)
            XCTAssertEqual(needed, 1 << 62)
            XCTAssertGreaterThan(available, 0)
            XCTAssertLessThan(available, 1 << 62)
        }
        let error = ShapedModelError.insufficientSpace(path: "/tmp/m", needed: 16_124_522_496, available: 3_000_000_000)
        XCTAssertEqual("\(error)", "/tmp/m: not enough free disk space: the model needs 16.12 GB, 3.00 GB available")
    }
}
