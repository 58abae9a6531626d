// Data readers (JSON Lines, BIG-bench task.json), the split, prompt building with SmolLM2's chat
// template, loss masks, truncation and malformed-line errors naming file and line.
import Foundation
import XCTest
import SecuraModel
import SecuraTokenizer
import TestSupport
@testable import SecuraData

final class DataTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("data-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: dir) }

    func write(_ name: String, _ text: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    static let tokenizer: Tokenizer = try! Tokenizer(directory: FixturePaths.fixture("tokenizers/smollm2").path)

    func testJSONLinesWithListsAndMessages() throws {
        let path = try write("a.jsonl", """
            {"input": "2+2?", "output": "4"}

            {"input": "capital of France?", "output": ["Paris", "paris"]}
            {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
            """)
        let file = try JSONLReader.read(path, skipBadLines: false)
        XCTAssertEqual(file.records.count, 3)
        XCTAssertEqual(file.records[1].answers, ["Paris", "paris"])
        XCTAssertEqual(file.records[1].origin, "\(path):3")
        XCTAssertEqual(file.records[2].answers, ["hello"])
    }

    func testMalformedLinesNameFileAndLine() throws {
        let path = try write("bad.jsonl", "{\"input\": \"a\", \"output\": \"b\"}\n{\"input\": 3}\nnot json\n")
        XCTAssertThrowsError(try JSONLReader.read(path, skipBadLines: false)) { error in
            XCTAssertEqual("\(error)", "\(path):2: missing string field 'input' (or 'messages')")
        }
        let skipped = try JSONLReader.read(path, skipBadLines: true)
        XCTAssertEqual(skipped.records.count, 1)
        XCTAssertEqual(skipped.skipped.count, 2)
        // Invalid UTF-8 on a line is an error for that line, not a crash.
        let url = dir.appendingPathComponent("utf8.jsonl")
        try Data([0x7B, 0x22, 0x69, 0x6E, 0x70, 0x75, 0x74, 0x22, 0x3A, 0x22, 0xFF, 0xFE, 0x22, 0x7D, 0x0A]).write(to: url)
        XCTAssertThrowsError(try JSONLReader.read(url.path, skipBadLines: false)) { XCTAssert("\($0)".contains(":1: invalid UTF-8"), "\($0)") }
    }

    /// "no usable examples" alone left the user guessing; the message now says why, with the file.
    func testNoUsableExamplesSaysWhy() throws {
        let blank = try write("blank.jsonl", "\n  \n")
        XCTAssertThrowsError(try JSONLReader.read(blank, skipBadLines: true)) {
            XCTAssertEqual("\($0)", "\(blank): no usable examples: the file has no records (only blank lines)")
        }
        let bad = try write("allbad.jsonl", "{\"input\": 3}\nnot json\n")
        XCTAssertThrowsError(try JSONLReader.read(bad, skipBadLines: true)) {
            XCTAssertEqual("\($0)", "\(bad): no usable examples: all 2 lines were malformed and skipped; "
                           + "the first: \(bad):1: missing string field 'input' (or 'messages')")
        }
        let task = try write("task.json", "{\"examples\": []}")
        XCTAssertThrowsError(try BigBenchReader.read(task, skipBadLines: false)) {
            XCTAssertEqual("\($0)", "\(task): no usable examples: its 'examples' list is empty")
        }
    }

    /// Syntax errors in task files carry the column (JSONL) or the line and column (task.json).
    func testJSONErrorsInTaskFilesArePlaced() throws {
        let path = try write("syntax.jsonl", "{\"input\": \"a\", \"output\": \"b\"}\n{\"input\": \"a\" \"output\": \"b\"}\n")
        XCTAssertThrowsError(try JSONLReader.read(path, skipBadLines: false)) {
            XCTAssertEqual("\($0)", "\(path):2: not valid JSON at column 15: unexpected '\"', expected '}' or ',' in object")
        }
        let task = try write("syntax.json", "{\"examples\": [\n  {\"input\": \"a\", \"target\": 18446744073709551615 x}]}")
        XCTAssertThrowsError(try BigBenchReader.read(task, skipBadLines: false)) {
            XCTAssert("\($0)".hasPrefix("\(task):2: not valid JSON at column "), "\($0)")
        }
    }

    func testBigBenchMultipleChoiceKeepsFileOrderAndPrefixes() throws {
        let path = try write("task.json", """
            {"examples": [{"input": "Is it?", "target_scores": {"yes": 0, "no": 1, "maybe": 0}},
                          {"input": "Count", "target": ["three", "3"]}]}
            """)
        let file = try BigBenchReader.read(path, skipBadLines: false)
        XCTAssertEqual(file.records[0].choices, ["yes", "no", "maybe"])
        XCTAssertEqual(file.records[0].answers, ["no"])
        XCTAssertEqual(file.records[0].content, .promptAnswer(prompt: "\nQ: Is it?\n  choice: yes\n  choice: no\n  choice: maybe\nA: ", answers: ["no"]))
        XCTAssertEqual(file.records[1].answers, ["three", "3"])
    }

    func testSharedBigBenchTasksLoad() throws {
        // ../shared/data sits beside the checkout in CI and on developer machines, not on a user's fresh clone.
        guard FileManager.default.fileExists(atPath: FixturePaths.sharedData("bigbench").path) else {
            throw XCTSkip("../shared/data is not beside this checkout")
        }
        let counting = try DatasetLoader.read(FixturePaths.sharedData("bigbench/object_counting.json").path, skipBadLines: false)
        XCTAssertEqual(counting.records.count, 1000)
        let deduction = try DatasetLoader.read(FixturePaths.sharedData("bigbench/logical_deduction.json").path, skipBadLines: false)
        guard case let .promptAnswer(prompt, answers) = deduction.records[0].content else { return XCTFail() }
        XCTAssertTrue(prompt.hasPrefix("The following paragraphs each describe"))
        XCTAssertFalse(prompt.contains("choice"), "append_choices_to_input is false for this task")
        XCTAssertEqual(answers, ["The black book is the leftmost."])
        let (train, test) = DatasetSplit.split(counting.records, trainFraction: 0.9, seed: 42)
        XCTAssertEqual(train.count, 900)
        XCTAssertEqual(test.count, 100)
        XCTAssertEqual(DatasetSplit.split(counting.records, trainFraction: 0.9, seed: 42).test, test, "deterministic")
    }

    func testChatPromptAndLossMaskCoverOnlyTheAnswerAndEndOfTurn() throws {
        var options = PromptOptions()
        options.maxLength = 512
        let builder = try PromptBuilder(tokenizer: Self.tokenizer, options: options)
        let record = DataRecord(content: .promptAnswer(prompt: "How many legs does a cat have?", answers: ["four"]), origin: "t")
        let e = try builder.fullExample(record)
        let answerIDs = zip(e.tokens, e.lossMask).filter { $0.1 }.map { Int($0.0) }
        XCTAssertEqual(Self.tokenizer.decode(answerIDs), "four<|im_end|>")
        // The prompt tokens equal the generation prompt, so training and inference see the same prefix.
        let prompt = try builder.promptTokens(record)
        XCTAssertEqual(Array(e.tokens.prefix(prompt.count)), prompt)
        XCTAssertTrue(Self.tokenizer.decode(prompt.map(Int.init)).hasSuffix("<|im_start|>assistant\n"))
    }

    func testTruncationIsCountedAndExamplesWithoutAnswersDropped() throws {
        var options = PromptOptions()
        options.maxLength = 40
        let builder = try PromptBuilder(tokenizer: Self.tokenizer, options: options)
        let long = DataRecord(content: .promptAnswer(prompt: String(repeating: "word ", count: 200), answers: ["x"]), origin: "a")
        let short = DataRecord(content: .promptAnswer(prompt: "hi", answers: [String(repeating: "y ", count: 40)]), origin: "b")
        let built = try builder.build([long, short])
        XCTAssertEqual(built.truncated, 2)
        XCTAssertEqual(built.dropped, 1)
        XCTAssertEqual(built.examples.count, 1)
        XCTAssertEqual(built.examples[0].tokens.count, 40)
        XCTAssertGreaterThan(built.tokensCut, 200)
    }

    func testPlainPromptsEndWithEOS() throws {
        var options = PromptOptions()
        options.chat = false
        let builder = try PromptBuilder(tokenizer: Self.tokenizer, options: options)
        let e = try builder.fullExample(DataRecord(content: .promptAnswer(prompt: "Q: 1+1\nA:", answers: [" 2"]), origin: "p"))
        XCTAssertEqual(e.tokens.last, Int32(Self.tokenizer.specialTokens.eos!))
        // SmolLM2-Instruct's EOS is its end-of-turn token.
        XCTAssertEqual(Self.tokenizer.decode(zip(e.tokens, e.lossMask).filter { $0.1 }.map { Int($0.0) }), " 2<|im_end|>")
    }
}
