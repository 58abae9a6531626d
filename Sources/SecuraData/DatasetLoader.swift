// Opens a data file by its format: BIG-bench task.json (a JSON object with "examples") or JSON Lines.
import Foundation

public enum DatasetLoader {
    /// Reads `path`: files ending in .jsonl are JSON Lines; .json files are BIG-bench tasks.
    public static func read(_ path: String, skipBadLines: Bool) throws -> DataFile {
        guard FileManager.default.fileExists(atPath: path) else {
            throw DataError.unreadable(path: path, reason: "file not found")
        }
        if path.hasSuffix(".jsonl") { return try JSONLReader.read(path, skipBadLines: skipBadLines) }
        if path.hasSuffix(".json") { return try BigBenchReader.read(path, skipBadLines: skipBadLines) }
        // Unknown extension: decide by the first non-space byte ('{' followed by a newline-separated object per line).
        let head = (try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)).readData(ofLength: 4096)) ?? Data()
        if let text = String(data: head, encoding: .utf8), text.contains("\"examples\"") {
            return try BigBenchReader.read(path, skipBadLines: skipBadLines)
        }
        return try JSONLReader.read(path, skipBadLines: skipBadLines)
    }
}
