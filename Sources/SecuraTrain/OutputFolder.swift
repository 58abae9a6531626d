// The output folder of a training run, checked before any work: a folder that cannot be written would
// otherwise be found out only at the first checkpoint, after the steps before it were computed for nothing.
import Foundation
import SecuraIO

public enum OutputFolder {
    /// Subfolders a run writes into besides the folder itself.
    static let subfolders = ["checkpoints"]

    /// Creates `folder` and its `checkpoints` subfolder when missing, then proves that a file can be
    /// created in each (a probe file, written and removed: what `access(2)` says is not enough, e.g. for
    /// root on a read-only mount or under a path that is a file).
    ///
    /// - Throws: `CheckpointError.outputNotWritable` naming the folder and the system's reason.
    public static func ensureWritable(_ folder: URL) throws {
        for url in [folder] + subfolders.map({ folder.appendingPathComponent($0) }) {
            do {
                try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            } catch {
                throw CheckpointError.outputNotWritable(path: url.path, reason: reason(error))
            }
            do {
                let probe = try AtomicFileWriter(path: url.appendingPathComponent(".secura-write-probe").path)
                try probe.write([UInt8(0)])
                probe.abandon()
            } catch {
                throw CheckpointError.outputNotWritable(path: url.path, reason: reason(error))
            }
        }
    }

    /// The system's words for a failure (e.g. "No space left on device"), without Foundation's "The
    /// operation could not be completed", for messages that name the file themselves.
    public static func reason(_ error: Error) -> String {
        if case let IOError.cannotWrite(_, reason) = error { return reason }
        let underlying = (error as NSError).userInfo[NSUnderlyingErrorKey] as? NSError
        if let code = underlying?.code, underlying?.domain == NSPOSIXErrorDomain, let text = strerror(Int32(code)) {
            return String(cString: text)
        }
        return error.localizedDescription
    }
}
