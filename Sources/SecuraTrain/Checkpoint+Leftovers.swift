// What a writer killed mid-way leaves beside the checkpoints: its hidden ".NAME.partial-PID" folder (or,
// killed between the two renames of a replacement, ".NAME.old-PID"). Readers never take them for
// checkpoints, but each holds up to a checkpoint's bytes, so the next successful save removes those
// whose process is gone.
import Foundation

extension Checkpoint {
    /// Removes hidden ".NAME.partial-PID" and ".NAME.old-PID" folders in `folder` whose PID is not a
    /// live process on this host; returns the names removed. Never touches a live writer's folder.
    @discardableResult
    static func removeLeftovers(in folder: URL) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var removed: [String] = []
        for name in names where name.hasPrefix(".") {
            guard let dash = name.lastIndex(of: "-"), let pid = Int32(name[name.index(after: dash)...]),
                  name[..<dash].hasSuffix(".partial") || name[..<dash].hasSuffix(".old"), pid > 0 else { continue }
            guard kill(pid, 0) != 0, errno == ESRCH else { continue }
            if (try? FileManager.default.removeItem(at: folder.appendingPathComponent(name))) != nil { removed.append(name) }
        }
        return removed
    }
}
