// The KV-cache path equals the full forward pass, and greedy/sampled generation behave.
import XCTest
import TestSupport
@testable import SecuraModel

final class GenerationTests: XCTestCase {
    func testCachedForwardMatchesFullForward() throws {
        // tiny-gemma2: its sliding window (4) is shorter than the 10 tokens, so cached steps drop old keys.
        for folder in ["tiny-llama", "tiny-qwen2", "tiny-gemma2"] {
            let decoder = try ModelLoader.open(FixturePaths.fixture(folder).path).decoder()
            let tokens: [Int32] = [5, 77, 200, 13, 9, 41, 250, 3, 3, 128].map { $0 % Int32(decoder.config.vocabSize) }
            let acts = DecoderActivations(config: decoder.config, batch: 1, length: tokens.count)
            decoder.forward(TokenBatch(tokens: tokens, batch: 1, length: tokens.count), into: acts)
            let v = decoder.config.vocabSize
            // Prefill 6 tokens, then feed the rest one at a time; every step's logits match the full pass.
            let cache = KVCache(config: decoder.config, capacity: 16)
            var logits = try decoder.extend(cache, with: Array(tokens[0..<6]))
            assertAllClose(logits, Array(acts.logits.toArray()[(5 * v)..<(6 * v)]), atol: 1e-5, rtol: 1e-4, "\(folder) prefill")
            for t in 6..<tokens.count {
                logits = try decoder.extend(cache, with: [tokens[t]])
                assertAllClose(logits, Array(acts.logits.toArray()[(t * v)..<((t + 1) * v)]), atol: 1e-5, rtol: 1e-4,
                               "\(folder) step \(t)")
            }
            XCTAssertEqual(cache.count, tokens.count)
            XCTAssertThrowsError(try decoder.extend(cache, with: Array(repeating: 1, count: 7)))
        }
    }

    func testHeadLogitsOfChosenRowsMatchTheFullForward() throws {
        // Teacher-forced scoring runs the head on the answer rows only; tiny-gemma2 adds the final soft-cap.
        for folder in ["tiny-llama", "tiny-gemma2"] {
            let decoder = try ModelLoader.open(FixturePaths.fixture(folder).path).decoder()
            let v = decoder.config.vocabSize
            let tokens: [Int32] = [7, 19, 3, 250, 41, 9, 77, 5].map { $0 % Int32(v) }
            let batch = TokenBatch(tokens: tokens, batch: 1, length: tokens.count)
            let full = DecoderActivations(config: decoder.config, batch: 1, length: tokens.count, mode: .forwardOnly)
            decoder.forward(batch, into: full)
            let bare = DecoderActivations(config: decoder.config, batch: 1, length: tokens.count, mode: .forwardOnly,
                                          logits: false)
            decoder.forward(batch, into: bare, logits: false)
            for rows in [[5, 6], [0, 3, 7], [4]] {
                let got = decoder.headLogits(bare, rows: rows).toArray()
                XCTAssertEqual(got.count, rows.count * v, "\(folder) \(rows): one row of logits each")
                let expected = rows.flatMap { Array(full.logits.toArray()[($0 * v)..<(($0 + 1) * v)]) }
                assertAllClose(got, expected, atol: 1e-5, rtol: 1e-5, "\(folder) rows \(rows)")
            }
            XCTAssertTrue(decoder.headLogits(bare, rows: []).toArray().isEmpty)
        }
    }

    func testGreedyGenerationIsArgmaxOfFullForward() throws {
        let decoder = try ModelLoader.open(FixturePaths.fixture("tiny-llama").path).decoder()
        let prompt: [Int32] = [1, 2, 3]
        let g = try decoder.generate(prompt: prompt, maxNewTokens: 8, stopTokens: [])
        XCTAssertEqual(g.tokens.count, 8)
        XCTAssertEqual(g.stopReason, .maxTokens)
        var seq = prompt
        for expected in g.tokens {
            let acts = DecoderActivations(config: decoder.config, batch: 1, length: seq.count)
            decoder.forward(TokenBatch(tokens: seq, batch: 1, length: seq.count), into: acts)
            let v = decoder.config.vocabSize
            XCTAssertEqual(Int32(Sampler.argmax(Array(acts.logits.toArray()[((seq.count - 1) * v)...]))), expected)
            seq.append(expected)
        }
        // A stop token ends generation and is not returned.
        let stopped = try decoder.generate(prompt: prompt, maxNewTokens: 8, stopTokens: [g.tokens[2]])
        XCTAssertEqual(stopped.stopReason, .stopToken)
        XCTAssertEqual(stopped.tokens, Array(g.tokens[0..<2]))
    }

    func testSamplingIsSeededAndTopPRestricts() {
        let logits: [Float] = [0, 3, 2.9, -5, 1]
        var a = Sampler(SamplingOptions(temperature: 1, topP: 1, seed: 9))
        var b = Sampler(SamplingOptions(temperature: 1, topP: 1, seed: 9))
        let sa = (0..<50).map { _ in a.next(logits) }
        XCTAssertEqual(sa, (0..<50).map { _ in b.next(logits) })
        XCTAssertGreaterThan(Set(sa).count, 1)
        var nucleus = Sampler(SamplingOptions(temperature: 1, topP: 0.5, seed: 3))
        let picks = Set((0..<200).map { _ in nucleus.next(logits) })
        XCTAssertTrue(picks.isSubset(of: [1, 2]), "\(picks)")
    }
}
