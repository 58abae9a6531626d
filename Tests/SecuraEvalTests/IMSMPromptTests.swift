// IMSM's prompt means must cover the same tokens in training, teacher-forced evaluation and generation:
// the positions before the first answer token of a built example are exactly the generation prompt, and
// the teacher-forced predictor hands that prompt length to the model's mixer.
import Foundation
import XCTest
import SecuraData
import SecuraModel
import TestSupport
@testable import SecuraEval

/// A mixer that changes nothing (ĥ = h') and records the prompt lengths it is given.
private final class RecordingMixer: HiddenMixer {
    let width: Int
    var promptLengths: [[Int]] = []
    init(width: Int) { self.width = width }
    func forward(out: UnsafeMutablePointer<Float>, tuned: UnsafePointer<Float>, batch: TokenBatch, training: Bool) {
        promptLengths.append(batch.promptLengths)
        out.update(from: tuned, count: batch.rows * width)
    }
    func backward(dTuned: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, tuned: UnsafePointer<Float>, batch: TokenBatch) {}
    func extend(out: UnsafeMutablePointer<Float>, tuned: UnsafePointer<Float>, tokens: [Int32], past: Int, cache: KVCache) throws {
        out.update(from: tuned, count: tokens.count * width)
    }
}

final class IMSMPromptTests: XCTestCase {
    func testPromptLengthIsTheGenerationPromptAndReachesTheMixer() throws {
        let model = try XCTUnwrap(FixturePaths.smolLM2, "SmolLM2 GGUF missing (looked at \(FixturePaths.smolLM2Candidates)): run launch/fetch-model.sh")
        let data = FixturePaths.sharedData("bigbench/object_counting.json").path
        try XCTSkipUnless(FileManager.default.fileExists(atPath: data), "../shared/data is not beside the checkout")
        let records = try EvalTask.load(path: data, seed: 42, limit: 3).records
        let tokenizer = try TokenizerLoader.load(model)
        for chat in [true, false] {
            var options = PromptOptions()
            options.chat = chat
            let builder = try PromptBuilder(tokenizer: tokenizer, options: options)
            for record in records {
                let example = try builder.fullExample(record), prompt = try builder.promptTokens(record)
                XCTAssertEqual(example.promptLength, prompt.count, "chat \(chat): answer starts right after the prompt")
                XCTAssertEqual(Array(example.tokens.prefix(prompt.count)), prompt, "chat \(chat): the same prompt tokens")
            }
        }

        let decoder = try ModelLoader.open(model).decoder()
        let plain = Predictor(model: decoder, builder: try PromptBuilder(tokenizer: tokenizer, options: PromptOptions()),
                              mode: .teacherForced)
        let expected = try plain.predict(records[0])
        let mixer = RecordingMixer(width: decoder.config.hiddenSize)
        decoder.mixer = mixer
        defer { decoder.mixer = nil }
        let builder = try PromptBuilder(tokenizer: tokenizer, options: PromptOptions())
        let predictor = Predictor(model: decoder, builder: builder, mode: .teacherForced)
        XCTAssertEqual(try predictor.predict(records[0]), expected, "an identity mixer changes no prediction")
        XCTAssertEqual(mixer.promptLengths, [[try builder.promptTokens(records[0]).count]])
    }
}
