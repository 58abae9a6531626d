// Crash-safe file output: bytes go to a hidden temporary file next to the destination, which is fsynced
// and then renamed over it; the folder is then fsynced so that the rename itself is on disk. A reader
// sees either the old file or the complete new one, never a torn write, and a failure (full disk,
// killed process) leaves the previous file untouched.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The C library's `write`, reachable from inside a type that has its own `write` methods.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}

/// Writes one file atomically. Call `write` any number of times, then `commit`; if `commit` is never
/// reached (an error, or the writer is dropped), the temporary file is removed and the destination is
/// unchanged.
public final class AtomicFileWriter {
    /// The destination path.
    public let path: String
    /// The temporary file being written (in the destination's folder, so `rename` stays atomic).
    public let temporaryPath: String
    private var descriptor: Int32
    private var finished = false

    /// Creates the temporary file next to `path`.
    ///
    /// - Throws: `IOError.cannotWrite` when the folder does not exist or is not writable.
    public init(path: String) throws {
        self.path = path
        let (folder, fileName) = Self.split(path)
        guard !fileName.isEmpty else { throw IOError.cannotWrite(path: path, reason: "the path names a folder") }
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        temporaryPath = (folder.map { $0 + "/" } ?? "") + ".\(fileName).tmp-\(getpid())-\(suffix)"
        descriptor = open(temporaryPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if descriptor < 0 {
            let code = errno
            let where_ = folder.map { "folder '\($0)'" } ?? "the current folder"
            switch code {
            case ENOENT:
                throw IOError.cannotWrite(path: path, reason: "\(where_) does not exist")
            case ENOTDIR:
                throw IOError.cannotWrite(path: path, reason: "\(where_) is not a folder")
            default:
                throw IOError.cannotWrite(path: path, reason: "cannot create a file in \(where_): "
                    + MappedFile.message(code))
            }
        }
    }

    deinit { abandon() }

    /// Appends `bytes` to the temporary file.
    ///
    /// - Throws: `IOError.cannotWrite` (e.g. disk full); the temporary file is then removed.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard !finished else { throw IOError.cannotWrite(path: path, reason: "writer already finished") }
        guard var next = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let written = systemWrite(descriptor, next, remaining)
            if written < 0 {
                let code = errno
                if code == EINTR { continue }
                abandon()
                throw IOError.cannotWrite(path: path, reason: MappedFile.message(code))
            }
            next += written
            remaining -= written
        }
    }

    /// Appends the bytes of an array.
    public func write<T>(_ values: [T]) throws {
        try values.withUnsafeBytes { try write($0) }
    }

    /// Flushes the data to disk and renames the temporary file to `path`, replacing any existing file.
    ///
    /// - Throws: `IOError.cannotWrite` if syncing or renaming fails; the temporary file is then removed.
    ///   After the rename the folder is synced (`syncFolder`); its failure names the folder, and the new
    ///   file is in place but may not survive a power loss.
    public func commit() throws {
        guard !finished else { throw IOError.cannotWrite(path: path, reason: "writer already finished") }
        if fsync(descriptor) != 0 {
            let code = errno
            abandon()
            throw IOError.cannotWrite(path: path, reason: "fsync failed: " + MappedFile.message(code))
        }
        close(descriptor)
        descriptor = -1
        if rename(temporaryPath, path) != 0 {
            let code = errno
            abandon()
            throw IOError.cannotWrite(path: path, reason: "rename failed: " + MappedFile.message(code))
        }
        finished = true
        // The rename is durable only once the folder holding the entry is synced.
        try Self.syncFolder(Self.split(path).folder ?? ".")
    }

    /// Flushes a folder's entries to disk (fsync of the folder), so that a file or folder renamed into
    /// it survives a power loss. File systems that cannot sync a folder (EINVAL) are taken as done.
    ///
    /// - Throws: `IOError.cannotWrite` naming the folder when it cannot be opened or synced.
    public static func syncFolder(_ folder: String) throws {
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw IOError.cannotWrite(path: folder, reason: "cannot open the folder to sync it: " + MappedFile.message(errno))
        }
        defer { close(descriptor) }
        while fsync(descriptor) != 0 {
            let code = errno
            if code == EINTR { continue }
            if code == EINVAL { return }
            throw IOError.cannotWrite(path: folder, reason: "cannot sync the folder after a rename into it: " + MappedFile.message(code))
        }
    }

    /// Discards the temporary file. Safe to call more than once; does nothing after `commit`.
    public func abandon() {
        guard !finished else { return }
        finished = true
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
        unlink(temporaryPath)
    }

    /// Splits a path into its folder (nil for a bare file name) and file name.
    private static func split(_ path: String) -> (folder: String?, fileName: String) {
        guard let slash = path.lastIndex(of: "/") else { return (nil, path) }
        let folder = String(path[..<slash])
        return (folder.isEmpty ? "/" : folder, String(path[path.index(after: slash)...]))
    }
}
