// `export --format gguf` read back by our own GGUF reader, on the tiny Llama (llama3 RoPE, GQA,
// head_dim ≠ C/H), Qwen2 (q/k/v biases, tied) and Gemma2 (sandwich norms, soft-capping, sliding window)
// fixtures with a LoRA adapter trained a few steps (q and v merged, k untouched: both Llama permutation
// paths; down_proj merged: its rows of 176 are not whole Q8_0 blocks): every key, every tensor (F32,
// F16, BF16 bit for bit against the merged fp32 weights, Q8_0 within half a quantisation step) and the
// adapted model's loss and logits.
import Foundation
import XCTest
import SecuraAdapters
import SecuraDistributed
import SecuraIO
import SecuraModel
import TestSupport
@testable import SecuraTrain

final class GGUFExportTests: XCTestCase {
    /// The tiny fixtures, with token ids their vocabularies hold.
    static let fixtures: [(name: String, tokens: [Int32])] = [
        ("tiny-llama", [1, 3, 17, 99, 4, 250, 31, 8, 77, 5, 2, 140]),
        ("tiny-qwen2", [1, 3, 17, 99, 4, 250, 31, 8, 77, 5, 2, 140]),
        ("tiny-gemma2", [1, 3, 17, 60, 4, 25, 31, 8, 47, 5, 2, 14]),
    ]

    /// A LoRA adapter on q, v and down of `fixture`, trained `steps` steps on a reversal task.
    static func trainedLoRA(_ fixture: String, steps: Int = 3) throws -> (LoadedModel, Trainer) {
        let loaded = try ModelLoader.open(FixturePaths.fixture(fixture).path)
        var s = MethodSettings()
        s.method = .lora
        s.targets = [.q, .v, .down]
        s.rank = 4
        s.alpha = 8
        let adapters = try AdapterSet(config: loaded.config, base: loaded.source, settings: s, seed: 3, solver: NoSVD())
        var o = TrainingOptions()
        o.steps = steps
        o.batchSize = 4
        o.microBatch = 2
        o.schedule = LRSchedule(kind: .constant, base: 2e-2, warmup: 0, total: steps)
        let data = fixture == "tiny-gemma2" ? Gemma2TrainingTests.examples(seed: 1) : TrainingTests.examples(seed: 1)
        let trainer = try Trainer(adapters: adapters, options: o, comm: SingleProcessCommunicator(), train: data,
                                  validation: Array(data.prefix(4)))
        for _ in 0..<steps { _ = try trainer.trainStep() }
        return (loaded, trainer)
    }

    /// Exports `adapters` over `loaded` as a GGUF file at `path` (no tokenizer: the fixtures have none).
    static func export(_ loaded: LoadedModel, _ adapters: AdapterSet, to path: String, _ precision: GGUFExport.Precision,
                       current: @escaping (LinearSite) throws -> [Float]? = { _ in nil }) throws {
        try GGUFExport.write(adapters, base: loaded.source, config: loaded.config, raw: loaded.raw,
                             tensorNames: loaded.tensors.map(\.name), tokenizer: [], name: "test", to: path,
                             precision: precision, current: current)
    }

    /// The ggml type a tensor must have, decided here independently of GGUFExport.tensorType.
    static func expectedType(_ shape: [Int], _ precision: GGUFExport.Precision) -> GGMLType {
        if shape.count == 1 { return .f32 }
        switch precision {
        case .f32: return .f32
        case .f16: return .f16
        case .bf16: return .bf16
        case .q8_0: return shape[1] % 32 == 0 ? .q8_0 : .f16
        }
    }

    func testExportReadsBackWithEveryTensorAndTheAdaptedLoss() throws {
        for (fixture, tokens) in Self.fixtures {
            let (loaded, trainer) = try Self.trainedLoRA(fixture)
            let adapters = trainer.adapters
            let expectedLoss = MergedExportTests.scoreLoss(adapters.model, tokens)
            XCTAssertGreaterThan(abs(expectedLoss - MergedExportTests.scoreLoss(try loaded.decoder(), tokens)), 1e-4 * expectedLoss,
                                 "\(fixture): the adapter changes the loss")
            // The merged model in Hugging Face order and fp32: what every exported tensor must encode.
            var expected: [String: [Float]] = [:]
            for t in loaded.tensors { expected[t.name] = try loaded.source.view(t.name).toFloatArray() }
            for plan in adapters.plans {
                let name = plan.site.weightName
                expected[name] = try MergedExport.mergedWeight(adapters, site: plan.site, original: try loaded.source.view(name))
                XCTAssertNotEqual(expected[name], try loaded.source.view(name).toFloatArray(), "\(fixture) \(name) is changed")
            }
            let dir = try TempDirectory()
            for precision in GGUFExport.Precision.allCases {
                let path = dir.path("\(fixture)-\(precision.rawValue).gguf")
                try Self.export(loaded, adapters, to: path, precision)
                let label = "\(fixture) \(precision.rawValue)"
                try checkMetadata(path, loaded: loaded, precision: precision, label)
                try checkTensors(path, loaded: loaded, expected: expected, precision: precision, label)

                let exported = try ModelLoader.open(path)
                let loss = MergedExportTests.scoreLoss(try exported.decoder(), tokens)
                let tolerance = [GGUFExport.Precision.f32: 1e-5, .f16: 5e-3, .bf16: 2e-2, .q8_0: 2e-2][precision]!
                XCTAssertEqual(loss, expectedLoss, accuracy: tolerance * expectedLoss, label)
                print("gguf export \(label): loss \(loss) vs adapted \(expectedLoss) (relative \(abs(loss - expectedLoss) / expectedLoss))")
                if precision == .f32 {
                    let batch = TokenBatch(tokens: tokens, batch: 1, length: tokens.count)
                    let a = DecoderActivations(config: loaded.config, batch: 1, length: tokens.count)
                    adapters.model.forward(batch, into: a, training: false)
                    let decoder = try exported.decoder()
                    let b = DecoderActivations(config: decoder.config, batch: 1, length: tokens.count)
                    decoder.forward(batch, into: b)
                    XCTAssertEqual(b.logits.count, a.logits.count)
                    assertAllClose(b.logits.toArray(), a.logits.toArray(), atol: 1e-4, rtol: 1e-4, "\(label) logits")
                }
            }
        }
    }

    /// Keys llama.cpp needs, and the configuration GGUFModel reads back equal to the original.
    func checkMetadata(_ path: String, loaded: LoadedModel, precision: GGUFExport.Precision, _ label: String) throws {
        let f = try GGUFFile(path: path)
        let c = loaded.config, arch = c.architecture.rawValue
        XCTAssertEqual(f.version, 3, label)
        XCTAssertEqual(f.alignment, 32, label)
        XCTAssertEqual(try f.string("general.architecture"), arch, label)
        XCTAssertEqual(try f.int("general.file_type"), [GGUFExport.Precision.f32: 0, .f16: 1, .q8_0: 7, .bf16: 32][precision], label)
        XCTAssertEqual(try f.int(arch + ".block_count"), c.layers, label)
        XCTAssertEqual(try f.int(arch + ".embedding_length"), c.hiddenSize, label)
        XCTAssertEqual(try f.int(arch + ".feed_forward_length"), c.intermediateSize, label)
        XCTAssertEqual(try f.int(arch + ".attention.head_count"), c.heads, label)
        XCTAssertEqual(try f.int(arch + ".attention.head_count_kv"), c.kvHeads, label)
        XCTAssertEqual(try f.int(arch + ".context_length"), c.maxPositions, label)
        XCTAssertEqual(try f.double(arch + ".attention.layer_norm_rms_epsilon").map(Float.init), c.rmsNormEps, label)
        XCTAssertEqual(try f.double(arch + ".rope.freq_base"), c.ropeTheta, label)
        XCTAssertEqual(try f.string("tokenizer.ggml.model"), "none", "\(label): no vocabulary in the fixtures")
        if c.architecture == .gemma2 {
            XCTAssertEqual(try f.double("gemma2.attn_logit_softcapping").map(Float.init), c.attentionSoftcap, label)
            XCTAssertEqual(try f.double("gemma2.final_logit_softcapping").map(Float.init), c.finalSoftcap, label)
            XCTAssertEqual(try f.int("gemma2.attention.sliding_window"), c.slidingWindow, label)
        }
        XCTAssertEqual(f.contains("rope_freqs.weight"), c.architecture == .llama, "\(label): tiny-llama has llama3 RoPE")
        var back = try ModelLoader.open(path).config
        let frequencies = back.inverseFrequencies, original = c.inverseFrequencies
        XCTAssertEqual(frequencies.count, original.count, label)
        for (a, b) in zip(frequencies, original) { XCTAssertEqual(a, b, accuracy: 1e-6 * b, "\(label) RoPE frequency") }
        back.ropeScaling = c.ropeScaling   // refitted from rope_freqs: the same frequencies, other parameters
        XCTAssertEqual(back, c, "\(label): configuration read back")
    }

    /// Every tensor: llama.cpp's name, the expected type, and its values against the merged fp32 weights.
    func checkTensors(_ path: String, loaded: LoadedModel, expected: [String: [Float]],
                      precision: GGUFExport.Precision, _ label: String) throws {
        let model = try GGUFModel(path: path)
        let arch = loaded.config.architecture
        XCTAssertEqual(model.file.tensors.count, loaded.tensors.count + (arch == .llama ? 1 : 0), "\(label): tensor count")
        var compared = 0
        for t in loaded.tensors {
            let ggufName = try XCTUnwrap(GGUFTensorNames.gguf(t.name, architecture: arch))
            let info = try XCTUnwrap(model.file.tensor(ggufName), "\(label): \(ggufName)")
            XCTAssertEqual(info.shape, t.shape, "\(label) \(ggufName) shape")
            let type = Self.expectedType(t.shape, precision)
            XCTAssertEqual(info.type, type, "\(label) \(ggufName) type")
            let want = expected[t.name]!
            if arch == .gemma2 && t.name.hasSuffix("norm.weight") {
                // Stored as 1 + w in F32, as llama.cpp's converter stores Gemma norms.
                XCTAssertEqual(try model.file.floats(ggufName), want.map { $0 + 1 }, "\(label) \(ggufName) = 1 + w")
                compared += 1
                continue
            }
            let got = try model.view(t.name).toFloatArray()   // Hugging Face order: the reader un-permutes q/k
            XCTAssertEqual(got.count, want.count, "\(label) \(ggufName)")
            switch type {
            case .f32:
                XCTAssertEqual(got.map(\.bitPattern), want.map(\.bitPattern), "\(label) \(ggufName)")
            case .f16:
                let h = want.map { DTypeConversion.halfToFloat(DTypeConversion.floatToHalf($0)) }
                XCTAssertEqual(got.map(\.bitPattern), h.map(\.bitPattern), "\(label) \(ggufName)")
            case .bf16:
                let b = want.map { Float(bitPattern: UInt32(DTypeConversion.floatToBF16($0)) << 16) }
                XCTAssertEqual(got.map(\.bitPattern), b.map(\.bitPattern), "\(label) \(ggufName)")
            default:
                // Q8_0: half a step d/2 of the row's largest block scale (blocks never cross rows), plus f16's
                // rounding of d, which moves q·d by at most |x|·2⁻¹¹.
                let width = t.shape[1]
                var worst: Float = 0
                for row in 0..<(want.count / width) {
                    let d = want[row * width..<(row + 1) * width].map(abs).max()! / 127
                    for i in row * width..<(row + 1) * width {
                        worst = max(worst, abs(got[i] - want[i]) / (d / 2 + abs(want[i]) / 1024 + 1e-12))
                    }
                }
                XCTAssertLessThanOrEqual(worst, 1, "\(label) \(ggufName): Q8_0 error in units of its bound")
                XCTAssertNotEqual(got, want, "\(label) \(ggufName): Q8_0 is lossy, so equal values mean nothing was quantised")
            }
            compared += 1
        }
        XCTAssertEqual(compared, loaded.tensors.count, label)
        XCTAssertGreaterThan(compared, 10, label)
    }

    /// A GGUF base (tiny-llama as llama.cpp's converter writes it): its tokenizer keys are copied, its
    /// rope_freqs is written again from the configuration read back, and the untouched tensors are the
    /// stored ones bit for bit (q/k un-permuted on reading, permuted again on writing).
    func testExportFromAGGUFBase() throws {
        let path = FixturePaths.fixture("gguf/tiny-llama-f32.gguf").path
        let loaded = try ModelLoader.open(path)
        let tokens = Self.fixtures[0].tokens
        let (_, trainer) = try Self.trainedLoRA("tiny-llama")
        let dir = try TempDirectory()
        let adapterFolder = URL(fileURLWithPath: dir.path("adapter"))
        try Checkpoint.save(trainer, modelPath: path, to: adapterFolder, optimizer: false)
        let adapters = try AdapterLoader.open(adapterFolder.path, config: loaded.config, base: loaded.source)
        let expected = MergedExportTests.scoreLoss(adapters.model, tokens)
        let names = loaded.tensors.map(\.name).filter { GGUFTensorNames.gguf($0, architecture: .llama) != nil }
        let tokenizer = try GGUFExport.tokenizerMetadata(modelPath: path, config: loaded.config, raw: loaded.raw)
        XCTAssertFalse(tokenizer.isEmpty)
        let out = dir.path("out.gguf")
        try GGUFExport.write(adapters, base: loaded.source, config: loaded.config, raw: loaded.raw, tensorNames: names,
                             tokenizer: tokenizer, name: "t", to: out, precision: .f32)
        let loss = MergedExportTests.scoreLoss(try ModelLoader.open(out).decoder(), tokens)
        XCTAssertEqual(loss, expected, accuracy: 1e-5 * expected, "GGUF base export loss")
        let original = try GGUFFile(path: path), exported = try GGUFFile(path: out)
        XCTAssertEqual(Set(exported.tensors.map(\.name)), Set(original.tensors.map(\.name)))
        for (key, value) in tokenizer { XCTAssertEqual(exported.value(key), value, key) }
        let merged = Set(adapters.plans.map { GGUFTensorNames.gguf($0.site.weightName, architecture: .llama)! })
        var same = 0
        for t in original.tensors where !merged.contains(t.name) {
            let a = try original.floats(t.name), b = try exported.floats(t.name)
            if t.name == "rope_freqs.weight" {
                assertAllClose(b, a, atol: 0, rtol: 1e-5, "rope_freqs from the refitted llama3 parameters")
            } else {
                XCTAssertEqual(b.map(\.bitPattern), a.map(\.bitPattern), t.name)
                same += 1
            }
        }
        XCTAssertGreaterThan(same, 10)
    }

    /// SECURA-M1 (merged into fp32 masters, with an unmerged B left) and masters read from a checkpoint.
    func testSecuraM1ExportWithStoredMasters() throws {
        let loaded = try ModelLoader.open(FixturePaths.fixture("tiny-llama").path)
        let tokens = Self.fixtures[0].tokens
        let trainer = try TrainingTests.makeTrainer(.securaM1, steps: 3, lr: 2e-2) { $0.fusionStep = 2 }
        for _ in 0..<3 { _ = try trainer.trainStep() }
        let expected = MergedExportTests.scoreLoss(trainer.adapters.model, tokens)
        let dir = try TempDirectory()
        let adapterFolder = URL(fileURLWithPath: dir.path("adapter"))
        try Checkpoint.save(trainer, modelPath: "tiny-llama", to: adapterFolder, optimizer: false)
        let lean = try AdapterLoader.open(adapterFolder.path, config: loaded.config, base: loaded.source, loadMasters: false)
        let stored = try XCTUnwrap(try AdapterLoader.storedMasters(adapterFolder.path, adapters: lean))
        try Self.export(loaded, lean, to: dir.path("m1.gguf"), .f32, current: { try stored.weight($0) })
        let loss = MergedExportTests.scoreLoss(try ModelLoader.open(dir.path("m1.gguf")).decoder(), tokens)
        XCTAssertEqual(loss, expected, accuracy: 1e-5 * expected, "SECURA-M1 GGUF export loss")
        XCTAssertNotEqual(loss, MergedExportTests.scoreLoss(try loaded.decoder(), tokens), accuracy: 1e-6, "the masters moved")
    }
}
