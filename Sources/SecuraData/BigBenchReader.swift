// BIG-bench task.json: examples with `input` and `target` (string or list) or `target_scores`
// (multiple choice). Prompts follow BIG-bench's JSON-task formatting: task_prefix +
// example_input_prefix + input [+ choice_prefix + each choice] + example_output_prefix, with BIG-bench's
// defaults ("\nQ: ", "\nA: ", "\n  choice: ", choices appended). Choices keep the file's order.
import Foundation
import SecuraIO

public enum BigBenchReader {
    public static func read(_ path: String, skipBadLines: Bool) throws -> DataFile {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw DataError.unreadable(path: path, reason: error.localizedDescription)
        }
        return try parse(data, path: path, skipBadLines: skipBadLines)
    }

    /// Reads the records of a BIG-bench task.json held in `data`; `path` names it in errors.
    public static func parse(_ data: Data, path: String, skipBadLines: Bool) throws -> DataFile {
        let root: JSONValue
        do { root = try data.withUnsafeBytes { try JSONParser.parse($0) } } catch let problem as JSONParseError {
            throw DataError.malformed(path: path, line: problem.line, reason: "not valid JSON at column \(problem.column)"
                                      + (problem.key.isEmpty ? "" : ", key '\(problem.key)'") + ": \(problem.reason)")
        }
        guard case let .object(task) = root, case let .array(examples)? = task["examples"] else {
            throw DataError.unsupportedFormat(path: path)
        }
        func string(_ key: String, _ fallback: String) -> String {
            if case let .string(s)? = task[key] { return s }
            return fallback
        }
        let taskPrefix = string("task_prefix", "")
        let inputPrefix = string("example_input_prefix", "\nQ: ")
        let outputPrefix = string("example_output_prefix", "\nA: ")
        let choicePrefix = string("choice_prefix", "\n  choice: ")
        var appendChoices = true
        if case let .bool(b)? = task["append_choices_to_input"] { appendChoices = b }
        var records: [DataRecord] = [], skipped: [DataError] = []
        for (i, raw) in examples.enumerated() {
            do {
                records.append(try record(raw, index: i + 1, path: path, prefixes: (taskPrefix, inputPrefix, outputPrefix, choicePrefix),
                                          appendChoices: appendChoices))
            } catch let e as DataError {
                guard skipBadLines else { throw e }
                skipped.append(e)
            }
        }
        guard !records.isEmpty else {
            throw DataError.empty(path: path, reason: examples.isEmpty ? "its 'examples' list is empty"
                                  : DataFile.emptyReason(entries: examples.count, noun: "example", skipped: skipped))
        }
        return DataFile(path: path, records: records, skipped: skipped)
    }

    static func record(_ raw: JSONValue, index: Int, path: String, prefixes: (String, String, String, String),
                       appendChoices: Bool) throws -> DataRecord {
        let (taskPrefix, inputPrefix, outputPrefix, choicePrefix) = prefixes
        func bad(_ reason: String) -> DataError { .malformedExample(path: path, index: index, reason: reason) }
        guard case let .object(ex) = raw, case let .string(input)? = ex["input"] else { throw bad("missing string field 'input'") }
        var prompt = taskPrefix + inputPrefix + input
        var answers: [String] = [], choices: [String] = []
        if case let .object(scores)? = ex["target_scores"] {
            var values: [Double] = []
            for key in scores.keys {
                switch scores[key] {
                case let .integer(v)?: values.append(Double(v))
                case let .number(v)?: values.append(v)
                default: throw bad("target_scores['\(key)'] is not a number")
                }
                choices.append(key)
            }
            guard let best = values.max(), best > 0 else { throw bad("target_scores has no choice with a positive score") }
            answers = zip(choices, values).filter { $0.1 == best }.map(\.0)
            if appendChoices { prompt += choices.map { choicePrefix + $0 }.joined() }
        } else if case let .string(t)? = ex["target"] {
            answers = [t]
        } else if case let .array(list)? = ex["target"] {
            for v in list {
                guard case let .string(s) = v else { throw bad("'target' list holds a non-string") }
                answers.append(s)
            }
            guard !answers.isEmpty else { throw bad("'target' is an empty list") }
        } else {
            throw bad("needs 'target' (string or list) or 'target_scores'")
        }
        prompt += outputPrefix
        return DataRecord(content: .promptAnswer(prompt: prompt, answers: answers), choices: choices,
                          origin: "\(path): example \(index)")
    }
}
