// A fresh temporary folder per test, removed when the object goes away, so tests that write files
// never collide with each other or leave litter behind.

import Foundation

/// A uniquely named folder under the system temporary directory, deleted (recursively) on deinit.
public final class TempDirectory {
    /// Absolute path of the folder (no trailing slash).
    public let path: String

    /// Creates the folder; `prefix` makes leftover folders recognisable.
    public init(prefix: String = "secura-test") throws {
        let base = NSTemporaryDirectory().hasSuffix("/") ? NSTemporaryDirectory() : NSTemporaryDirectory() + "/"
        var template = Array((base + prefix + "-XXXXXX").utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard created != nil else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: base + prefix])
        }
        path = String(cString: template)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The path of `name` inside the folder (not created).
    public func path(_ name: String) -> String { path + "/" + name }

    /// Writes `bytes` to `name` inside the folder and returns its path.
    @discardableResult
    public func write(_ bytes: [UInt8], to name: String) throws -> String {
        let file = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    /// Writes `text` as UTF-8 to `name` inside the folder and returns its path.
    @discardableResult
    public func write(_ text: String, to name: String) throws -> String {
        try write(Array(text.utf8), to: name)
    }

    /// Creates a subfolder `name` and returns its path.
    @discardableResult
    public func makeFolder(_ name: String) throws -> String {
        let folder = path(name)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    /// The names of the entries in the folder (or subfolder), sorted; hidden files included.
    public func contents(of subfolder: String? = nil) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: subfolder.map(path) ?? path).sorted()
    }
}
