// A model folder whose tokenizer has ids the model's embedding has no row for is refused when the
// tokenizer is loaded, naming the tokenizer file (the forward pass failed later naming no file).
import Foundation
import XCTest
import SecuraTokenizer
import TestSupport
@testable import SecuraRun

final class ModelContextTests: XCTestCase {
    func testATokenizerBeyondTheVocabularyIsNamed() throws {
        let dir = try TempDirectory()
        for name in ["config.json", "model.safetensors"] {
            try FileManager.default.copyItem(atPath: FixturePaths.fixture("tiny-llama/\(name)").path, toPath: dir.path(name))
        }
        // 2,261 ids (the flags fixture) for a 256-row embedding.
        try FileManager.default.copyItem(atPath: FixturePaths.fixture("tokenizers/flags/tokenizer.json").path,
                                         toPath: dir.path("tokenizer.json"))
        XCTAssertThrowsError(try ModelContext.open(dir.path).tokenizer()) { error in
            XCTAssertEqual("\(error)", "\(dir.path("tokenizer.json")): field 'vocabulary' is invalid: token ids reach 2260, "
                           + "but the model at \(dir.path) has 256 embedding rows (vocab_size 256); the tokenizer does not belong to this model")
        }
    }
}
