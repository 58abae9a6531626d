// Writing a whole output folder (an export) so that it is never seen half-written: the files go into a
// hidden sibling ".NAME.partial-PID", which is renamed to NAME only when every file is in it. A failure
// (a full disk) removes the hidden folder and leaves NAME as it was; a process killed mid-way leaves only
// the hidden folder, which no reader takes for an export.
import Foundation
import SecuraIO

public enum StagedFolder {
    /// Runs `body` with a fresh temporary folder beside `folder`, then puts the result in place of
    /// `folder`. Entries of a previous `folder` that the new one lacks and `carryOver` accepts (files a
    /// user added, say) are moved into the new folder; everything else of the previous one is removed.
    ///
    /// - Throws: what `body` throws (the temporary folder is removed first), or
    ///   `IOError.cannotWrite` naming the folder when it cannot be created or renamed, or naming the parent
    ///   folder when that cannot be synced after the rename (which makes the rename durable).
    public static func write(_ folder: URL, carryOver: (String) -> Bool = { _ in false },
                             _ body: (URL) throws -> Void) throws {
        let fm = FileManager.default
        let parent = folder.deletingLastPathComponent()
        let temporary = parent.appendingPathComponent(".\(folder.lastPathComponent).partial-\(getpid())")
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
            try? fm.removeItem(at: temporary)
            try fm.createDirectory(at: temporary, withIntermediateDirectories: false)
        } catch {
            throw IOError.cannotWrite(path: folder.path, reason: "cannot create the folder (\(error.localizedDescription))")
        }
        do {
            try body(temporary)
        } catch {
            try? fm.removeItem(at: temporary)
            throw error
        }
        guard fm.fileExists(atPath: folder.path) else {
            try rename(temporary, to: folder)
            return try AtomicFileWriter.syncFolder(parent.path)   // the rename is durable once the parent is synced
        }
        let old = parent.appendingPathComponent(".\(folder.lastPathComponent).old-\(getpid())")
        try? fm.removeItem(at: old)
        try rename(folder, to: old)
        do {
            try rename(temporary, to: folder)
        } catch {
            try? rename(old, to: folder)
            try? fm.removeItem(at: temporary)
            throw error
        }
        let fresh = Set((try? fm.contentsOfDirectory(atPath: folder.path)) ?? [])
        for name in (try? fm.contentsOfDirectory(atPath: old.path)) ?? [] where !fresh.contains(name) && carryOver(name) {
            try? fm.moveItem(at: old.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        try? fm.removeItem(at: old)
        try AtomicFileWriter.syncFolder(parent.path)
    }

    private static func rename(_ from: URL, to: URL) throws {
        guard Foundation.rename(from.path, to.path) == 0 else {
            throw IOError.cannotWrite(path: to.path, reason: "cannot rename \(from.lastPathComponent) into place: "
                                      + String(cString: strerror(errno)))
        }
    }
}
