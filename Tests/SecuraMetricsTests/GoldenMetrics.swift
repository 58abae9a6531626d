// Loading Tests/Fixtures/metrics/golden.json, made by make_golden.py beside it from the shared task
// data with the reference Python packages (NLTK, rouge-score, scikit-learn), and the comparison helper
// that names the failing pair, its strings and both values.

import Foundation
import XCTest

enum GoldenMetrics {
    /// …/Tests/Fixtures/metrics, found from this file's path.
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/metrics")

    /// The tolerance every golden comparison uses.
    static let tolerance = 1e-6

    /// One (prediction, golds) pair with every metric's reference value.
    struct Pair: Decodable {
        let source: String
        let prediction: String
        let golds: [String]
        let choices: [String]
        let bleuChar: Double
        let bleuWord: Double
        let rouge1: Double
        let rougeL: Double
        let exactMatch: Double
        let contains: Double
        let tokenF1: Double
        let mcAccuracy: Double
        let gsm8kPrediction: String?
        let gsm8kGold: String?
        let gsm8kAccuracy: Double

        enum CodingKeys: String, CodingKey {
            case source, prediction, golds, choices, rouge1, rougeL, contains
            case bleuChar = "bleu_char", bleuWord = "bleu_word", exactMatch = "exact_match"
            case tokenF1 = "token_f1", mcAccuracy = "mc_accuracy", gsm8kPrediction = "gsm8k_prediction"
            case gsm8kGold = "gsm8k_gold", gsm8kAccuracy = "gsm8k_accuracy"
        }
    }

    /// Label vectors are strings of "1" (yes) and "0" (no).
    struct MCCCase: Decodable {
        let name: String
        let labels: String
        let predictions: String
        let mcc: Double

        var labelBools: [Bool] { labels.map { $0 == "1" } }
        var predictionBools: [Bool] { predictions.map { $0 == "1" } }
    }

    struct MulticlassMCC: Decodable {
        let labels: [String]
        let predictions: [String]
        let mcc: Double
    }

    struct File: Decodable {
        let versions: [String: String]
        let pythonWhitespace: [UInt32]
        let wordCharacters: [[Int]]
        let wordCharacterRanges: [[UInt32]]
        let lowercaseMap: [LowercaseEntry]
        let lowercase: [[String]]
        let pairs: [Pair]
        let stems: [[String]]
        let mcc: [MCCCase]
        let mccMulticlass: MulticlassMCC
        let normalized: [[String]]
        let rougeTokens: [RougeTokens]

        enum CodingKeys: String, CodingKey {
            case versions, lowercase, pairs, stems, mcc, normalized
            case pythonWhitespace = "python_whitespace", wordCharacters = "word_characters"
            case wordCharacterRanges = "word_character_ranges", lowercaseMap = "lowercase_map"
            case mccMulticlass = "mcc_multiclass", rougeTokens = "rouge_tokens"
        }
    }

    /// [code point, str.lower() of it] for every code point Python lowercases.
    struct LowercaseEntry: Decodable {
        let codePoint: UInt32
        let lower: String

        init(from decoder: Decoder) throws {
            var container = try decoder.unkeyedContainer()
            codePoint = try container.decode(UInt32.self)
            lower = try container.decode(String.self)
        }
    }

    /// [text, [tokens]] as rouge-score's tokenizer returns them.
    struct RougeTokens: Decodable {
        let text: String
        let tokens: [String]

        init(from decoder: Decoder) throws {
            var container = try decoder.unkeyedContainer()
            text = try container.decode(String.self)
            tokens = try container.decode([String].self)
        }
    }

    private static let lock = NSLock()
    private static var cached: File?

    /// golden.json, decoded once per test run.
    static func load() throws -> File {
        lock.lock()
        defer { lock.unlock() }
        if let cached { return cached }
        let data = try Data(contentsOf: directory.appendingPathComponent("golden.json"))
        let file = try JSONDecoder().decode(File.self, from: data)
        cached = file
        return file
    }

    /// Compares `metric` on every pair with the golden value `reference`; one failure per bad pair,
    /// naming the pair's index, source, strings and both values.
    static func assertEveryPair(_ name: String, _ metric: (Pair) -> Double, _ reference: (Pair) -> Double,
                                file: StaticString = #filePath, line: UInt = #line) throws {
        let golden = try load()
        XCTAssertGreaterThanOrEqual(golden.pairs.count, 120, "golden.json has too few pairs", file: file, line: line)
        var failures = 0
        for (index, pair) in golden.pairs.enumerated() {
            let actual = metric(pair)
            let expected = reference(pair)
            if !(abs(actual - expected) <= tolerance) {
                failures += 1
                XCTFail("\(name) pair \(index) (\(pair.source)): got \(actual), reference \(expected) "
                        + "(error \(abs(actual - expected)))\n  prediction: \(describe(pair.prediction))\n"
                        + "  golds: \(pair.golds.map(describe))", file: file, line: line)
            }
        }
        if failures > 0 {
            XCTFail("\(name): \(failures) of \(golden.pairs.count) pairs differ by more than \(tolerance)",
                    file: file, line: line)
        }
    }

    /// A string for a failure message: quoted, escaped, and cut to 300 characters.
    static func describe(_ text: String) -> String {
        let shown = text.count > 300 ? String(text.prefix(300)) + "…(\(text.count) characters)" : text
        return shown.debugDescription
    }
}
