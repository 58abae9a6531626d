// `--config FILE`: a TOML file whose keys are the command's long flags (`lr = 1e-3`, `method = "lora"`,
// `targets = ["q_proj", "v_proj"]`, `skip-bad-lines = true`). It becomes arguments placed BEFORE the
// command line's own, so flags given on the command line override the file.
//
// Only what such a file needs is accepted: top-level `key = value` lines with strings, numbers,
// booleans and arrays of those, and comments. Tables, inline tables and dates are rejected by name.
import Foundation
import SecuraIO

enum ConfigFile {
    /// Arguments equivalent to the file at `path` (see `FlagFile.arguments`).
    static func arguments(_ path: String) throws -> [String] {
        // Read through a file handle so pipes and process substitutions work too.
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ConfigFileError.unreadable(path: path, reason: "cannot open it")
        }
        return try FlagFile.arguments(handle.readDataToEndOfFile(), path: path)
    }
}
