// SmolLM2-135M-Instruct (Q4_1 GGUF, the project's default model) against transformers' GGUF loader:
// the per-sequence mean next-token loss on 20 GSM8K chat sequences, from the token ids recorded in
// Tests/Fixtures/smollm2/reference.json (made by make_gguf_reference.py). The model file is not
// committed; launch/fetch-model.sh puts it in the cache. The 20 forward passes (about 1.3 TFLOP) take
// a minute or two on two cores; SECURA_SMOLLM2_SEQUENCES=n checks only the first n.

import Foundation
import SecuraIO
import TestSupport
import XCTest
import SecuraModel

final class SmolLM2ReferenceTests: XCTestCase {
    static let fileName = "SmolLM2-135M-Instruct.Q4_1.gguf"

    struct Reference: Decodable {
        struct Sequence: Decodable {
            let index: Int
            let ids: [Int32]
            let loss_float32: Double
            let loss_float64: Double
        }
        struct Generation: Decodable {
            let prompt_ids: [Int32]
            let generated_ids: [Int32]
        }
        let model_sha256: String
        let sequences: [Sequence]
        let generations: [Generation]
    }

    /// Where the model is looked for: `$SECURA_CACHE/models/<file>` (when set), then
    /// `~/.cache/secura-dist/models/<file>`, as launch/fetch-model.sh places it.
    static var candidatePaths: [String] {
        var caches: [String] = []
        if let cache = ProcessInfo.processInfo.environment["SECURA_CACHE"], !cache.isEmpty { caches.append(cache) }
        caches.append(NSHomeDirectory() + "/.cache/secura-dist")
        return caches.map { $0 + "/models/" + fileName }
    }

    static func modelPath() -> String? {
        candidatePaths.first { FileManager.default.fileExists(atPath: $0) }
    }

    func requireModel() throws -> String {
        guard let path = Self.modelPath() else {
            XCTFail("\(Self.fileName) not found (looked at \(Self.candidatePaths.joined(separator: ", "))); "
                    + "run launch/fetch-model.sh to download it")
            throw XCTSkip("model file missing")
        }
        return path
    }

    func reference() throws -> Reference {
        let url = FixturePaths.fixture("smollm2/reference.json")
        return try JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }

    func testPerSequenceLossMatchesTransformers() throws {
        let path = try requireModel()
        let ref = try reference()
        let savedThreads = Parallel.threads
        Parallel.threads = ProcessInfo.processInfo.activeProcessorCount
        defer { Parallel.threads = savedThreads }

        let start = Date()
        let loaded = try ModelLoader.open(path)
        let decoder = try loaded.decoder()  // dequantises every tensor
        let loadSeconds = Date().timeIntervalSince(start)
        let c = decoder.config
        XCTAssertEqual([c.layers, c.hiddenSize, c.heads, c.kvHeads, c.headDim, c.intermediateSize, c.vocabSize],
                       [30, 576, 9, 3, 64, 1536, 49152])
        XCTAssertEqual(c.ropeTheta, 100_000)
        XCTAssertTrue(c.tieWordEmbeddings)
        XCTAssertEqual(ref.sequences.count, 20)
        let limit = ProcessInfo.processInfo.environment["SECURA_SMOLLM2_SEQUENCES"].flatMap { Int($0) } ?? ref.sequences.count

        var worst = 0.0
        var report: [String] = []
        let forwardStart = Date()
        for s in ref.sequences.prefix(max(1, limit)) {
            let batch = TokenBatch(tokens: s.ids, batch: 1, length: s.ids.count)
            try decoder.validate(batch)
            let acts = DecoderActivations(config: c, batch: 1, length: batch.length)
            decoder.forward(batch, into: acts)
            let (sum, count) = decoder.crossEntropy(acts, targets: batch.nextTokenTargets)
            XCTAssertEqual(count, s.ids.count - 1)
            let loss = sum / Double(count)
            let relative = abs(loss - s.loss_float64) / s.loss_float64
            worst = max(worst, relative)
            report.append(String(format: "seq %2d T=%3d ours %.6f ref64 %.6f rel %.1e", s.index, s.ids.count, loss,
                                 s.loss_float64, relative))
            XCTAssertLessThanOrEqual(relative, 1e-3, "sequence \(s.index): loss \(loss), transformers \(s.loss_float64)")
        }
        let forwardSeconds = Date().timeIntervalSince(forwardStart)
        print(report.joined(separator: "\n"))
        print(String(format: "SmolLM2: open + dequantise %.2f s, %d forwards %.2f s, max relative loss difference %.2e",
                     loadSeconds, report.count, forwardSeconds, worst))
    }

    func testTokenizerMetadataIsReadable() throws {
        let file = try GGUFFile(path: try requireModel())
        let tokens = try XCTUnwrap(try file.stringArray("tokenizer.ggml.tokens"))
        XCTAssertEqual(tokens.count, 49152)
        XCTAssertEqual(Array(tokens.prefix(3)), ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
        XCTAssertEqual(try file.stringArray("tokenizer.ggml.merges")?.count, 48900)
        XCTAssertEqual(try file.intArray("tokenizer.ggml.token_type")?.count, 49152)
        XCTAssertEqual(try file.string("tokenizer.ggml.model"), "gpt2")
        XCTAssertEqual(try file.string("tokenizer.ggml.pre"), "smollm")
        XCTAssertEqual(try file.int("tokenizer.ggml.bos_token_id"), 1)
        XCTAssertEqual(try file.int("tokenizer.ggml.eos_token_id"), 2)
        XCTAssertTrue(try file.string("tokenizer.chat_template")?.contains("<|im_start|>") ?? false)
        // The recorded prompts start with <|im_start|> and every generation ends in range.
        let ref = try reference()
        for g in ref.generations {
            XCTAssertEqual(g.prompt_ids.first, 1)
            XCTAssertTrue(g.generated_ids.allSatisfy { $0 >= 0 && $0 < 49152 })
        }
        XCTAssertEqual(file.tensors.filter { $0.type == .q4_1 }.count, 210)
        XCTAssertEqual(file.tensors.filter { $0.type == .f32 }.count, 61)
        XCTAssertEqual(file.tensor("token_embd.weight")?.type, .q8_0)
    }
}
