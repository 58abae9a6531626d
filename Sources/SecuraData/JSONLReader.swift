// JSON Lines: one {"input": ..., "output": string | [string]} or {"messages": [{role, content}, ...]} per line.
import Foundation
import SecuraIO

public enum JSONLReader {
    /// Reads every record of `path`. A malformed line (bad JSON, invalid UTF-8, missing or mistyped
    /// fields) throws an error naming the file and line, unless `skipBadLines`, which skips and counts it.
    public static func read(_ path: String, skipBadLines: Bool) throws -> DataFile {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw DataError.unreadable(path: path, reason: error.localizedDescription)
        }
        return try parse(data, path: path, skipBadLines: skipBadLines)
    }

    /// Reads the records of the lines of a JSONL file held in `data`; `path` names it in errors.
    public static func parse(_ data: Data, path: String, skipBadLines: Bool) throws -> DataFile {
        var records: [DataRecord] = [], skipped: [DataError] = []
        var lineNumber = 0, nonBlank = 0
        for raw in data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            var bytes = Array(raw)
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
            if bytes.allSatisfy({ $0 == 32 || $0 == 9 }) { continue }
            nonBlank += 1
            do {
                records.append(try parse(bytes, path: path, line: lineNumber))
            } catch let e as DataError {
                guard skipBadLines else { throw e }
                skipped.append(e)
            }
        }
        guard !records.isEmpty else {
            let reason = nonBlank == 0 ? "the file has no records (\(data.isEmpty ? "it is empty" : "only blank lines"))"
                : DataFile.emptyReason(entries: nonBlank, noun: "line", skipped: skipped)
            throw DataError.empty(path: path, reason: reason)
        }
        return DataFile(path: path, records: records, skipped: skipped)
    }

    static func parse(_ bytes: [UInt8], path: String, line: Int) throws -> DataRecord {
        guard String(validatingUTF8: bytes.map { CChar(bitPattern: $0) } + [0]) != nil else {
            throw DataError.malformed(path: path, line: line, reason: "invalid UTF-8")
        }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(bytes)) } catch {
            guard let problem = JSONParser.diagnose(bytes) else {
                let detail = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? "\(error)"
                throw DataError.malformed(path: path, line: line, reason: "not valid JSON (\(detail))")
            }
            throw DataError.malformed(path: path, line: line, reason: "not valid JSON at column \(problem.column)"
                                      + (problem.key.isEmpty ? "" : ", key '\(problem.key)'") + ": \(problem.reason)")
        }
        guard let dict = object as? [String: Any] else {
            throw DataError.malformed(path: path, line: line, reason: "expected a JSON object")
        }
        let origin = "\(path):\(line)"
        if let messages = dict["messages"] {
            guard let list = messages as? [[String: Any]], !list.isEmpty else {
                throw DataError.malformed(path: path, line: line, reason: "'messages' must be a non-empty list of {role, content}")
            }
            var turns: [(role: String, content: String)] = []
            for (i, m) in list.enumerated() {
                guard let role = m["role"] as? String, let content = m["content"] as? String,
                      ["system", "user", "assistant"].contains(role) else {
                    throw DataError.malformed(path: path, line: line, reason: "message \(i + 1) needs a role (system, user, assistant) and a string content")
                }
                turns.append((role, content))
            }
            guard turns.last?.role == "assistant" else {
                throw DataError.malformed(path: path, line: line, reason: "the last message must be the assistant's answer")
            }
            return DataRecord(content: .messages(turns), origin: origin)
        }
        guard let input = dict["input"] as? String else {
            throw DataError.malformed(path: path, line: line, reason: "missing string field 'input' (or 'messages')")
        }
        let answers: [String]
        if let s = dict["output"] as? String {
            answers = [s]
        } else if let list = dict["output"] as? [Any], !list.isEmpty, let strings = list as? [String] {
            answers = strings
        } else {
            throw DataError.malformed(path: path, line: line, reason: "'output' must be a string or a non-empty list of strings")
        }
        return DataRecord(content: .promptAnswer(prompt: input, answers: answers), origin: origin)
    }
}
