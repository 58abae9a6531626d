// A read-only memory mapping of a whole file. Model weights are never read into RAM: the kernel pages
// them in on demand and shares the pages between all ranks on a node through the page cache.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file mapped read-only into memory for the lifetime of this object.
///
/// The mapping is private (`MAP_PRIVATE`, `PROT_READ`), so nothing can write through it. A zero-length
/// file is valid and has an empty `bytes` buffer. If another process truncates the file while it is
/// mapped, touching the lost pages raises SIGBUS; model files are not expected to change under a run.
public final class MappedFile: @unchecked Sendable {
    /// The path the file was opened with (used in error messages).
    public let path: String
    /// The file's size in bytes.
    public let size: Int
    private let base: UnsafeMutableRawPointer?
    /// True when `base` is a heap copy (`init(copying:path:)`) rather than a mapping.
    private let isCopy: Bool

    /// Maps the file at `path`.
    ///
    /// - Throws: `IOError.fileNotFound` if nothing exists at `path`, `IOError.notARegularFile` for a
    ///   directory or device, `IOError.cannotOpen` (e.g. permission denied) and `IOError.cannotMap`.
    public init(path: String) throws {
        self.path = path
        isCopy = false
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR { throw IOError.fileNotFound(path: path) }
            throw IOError.cannotOpen(path: path, reason: Self.message(code))
        }
        defer { close(fd) }

        var info = stat()
        if fstat(fd, &info) != 0 {
            throw IOError.cannotOpen(path: path, reason: Self.message(errno))
        }
        let type = info.st_mode & S_IFMT
        if type != S_IFREG {
            throw IOError.notARegularFile(path: path, kind: type == S_IFDIR ? "a directory" : "a special file")
        }
        guard info.st_size >= 0, let size = Int(exactly: info.st_size) else {
            throw IOError.cannotOpen(path: path, reason: "file size \(info.st_size) is not representable")
        }
        self.size = size

        if size == 0 {
            // mmap rejects a zero length; an empty file simply has no bytes.
            base = nil
            return
        }
        let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let mapped, mapped != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw IOError.cannotMap(path: path, reason: Self.message(errno))
        }
        base = mapped
    }

    /// A heap copy of `bytes` standing in for a file called `path`: the bytes-level entry point of the
    /// parsers that take a mapped file (tests and fuzz targets; the address sanitizer sees overreads of
    /// a heap block, which it cannot in a mapping).
    public init(copying bytes: UnsafeRawBufferPointer, path: String) {
        self.path = path
        size = bytes.count
        isCopy = true
        guard let source = bytes.baseAddress, !bytes.isEmpty else {
            base = nil
            return
        }
        let copy = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 64)
        copy.copyMemory(from: source, byteCount: bytes.count)
        base = copy
    }

    deinit {
        guard let base else { return }
        if isCopy { base.deallocate() } else { munmap(base, size) }
    }

    /// The file's bytes, valid while this object is alive. Empty (nil base address) for an empty file.
    public var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base, count: base == nil ? 0 : size)
    }

    /// Tells the kernel the mapped pages are not needed now (MADV_DONTNEED): they leave the resident set
    /// and are read from the file again if touched. The mapping is read-only, so nothing is lost.
    public func releaseResidentPages() {
        if let base, !isCopy { _ = madvise(base, size, MADV_DONTNEED) }
    }

    /// `releaseResidentPages()` for the pages overlapping bytes `range` of the file.
    public func releaseResidentPages(_ range: Range<Int>) {
        guard let base, !isCopy, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let lower = max(0, range.lowerBound / page * page), upper = min(size, (range.upperBound + page - 1) / page * page)
        if upper > lower { _ = madvise(base + lower, upper - lower, MADV_DONTNEED) }
    }

    /// The system's message for an errno value, e.g. "Permission denied".
    static func message(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }
}
