// One .safetensors file, memory-mapped and validated when opened. Tensor data is served straight from
// the mapping, so opening an 8B model costs a header parse, not 16 GB of reads.
//
// File layout: [N: UInt64 little-endian][N bytes of JSON header][data section]. Tensor offsets in the
// header are relative to the data section, which starts at byte 8 + N.

import Foundation
import SecuraTensor

/// A validated, memory-mapped safetensors file.
///
/// Opening checks the whole header (see `SafeTensorsEntry`), so `view(_:)` fails only for names that are
/// absent or dtypes secura-dist cannot compute with. Views point into this object's memory: keep the
/// file alive while they are in use. Safe to share between threads.
public final class SafeTensorsFile: @unchecked Sendable {
    /// Header lengths above this are rejected as corrupt (the format's reference implementation uses the
    /// same cap; real headers are a few hundred kilobytes at most).
    public static let maxHeaderLength = 100_000_000

    /// The path the file was opened with.
    public let path: String
    /// The optional `__metadata__` strings (empty when absent).
    public let metadata: [String: String]
    /// All tensor names, sorted.
    public let names: [String]
    /// File offset of the data section (8 + header length).
    public let dataStart: Int

    private let mapped: MappedFile
    /// Start of the mapping (never null: a valid file has at least 8 bytes).
    private let base: UnsafeRawPointer
    private let entriesByName: [String: SafeTensorsEntry]
    private let lock = NSLock()
    /// Aligned copies of tensors whose mapped bytes are not aligned to their element size.
    private var alignedCopies: [String: UnsafeMutableRawPointer] = [:]

    /// Maps and validates the file at `path`.
    ///
    /// - Throws: `IOError.fileNotFound`, `.notARegularFile`, `.cannotOpen`, `.cannotMap` (opening);
    ///   `.fileTooShort`, `.headerTooLarge`, `.headerPastEnd` (length prefix); `.invalidJSON`,
    ///   `.invalidHeader`, `.invalidEntry`, `.invalidShape`, `.offsetsReversed`, `.dataPastEnd`,
    ///   `.sizeMismatch` (header contents).
    public convenience init(path: String) throws {
        try self.init(MappedFile(path: path))
    }

    /// Validates `bytes` as the contents of a safetensors file called `path` (copied; for tests and
    /// fuzzing).
    ///
    /// - Throws: as `init(path:)`, except the errors of opening a file.
    public convenience init(bytes: UnsafeRawBufferPointer, path: String) throws {
        try self.init(MappedFile(copying: bytes, path: path))
    }

    private init(_ mapped: MappedFile) throws {
        let path = mapped.path
        self.path = path
        self.mapped = mapped
        let bytes = mapped.bytes

        guard bytes.count >= 8, let base = bytes.baseAddress else {
            throw IOError.fileTooShort(path: path, size: bytes.count, minimum: 8)
        }
        self.base = base
        let headerLength = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard headerLength <= UInt64(Self.maxHeaderLength) else {
            throw IOError.headerTooLarge(path: path, headerLength: headerLength, limit: Self.maxHeaderLength)
        }
        let jsonLength = Int(headerLength)
        guard jsonLength <= bytes.count - 8 else {
            throw IOError.headerPastEnd(path: path, headerLength: headerLength, fileSize: bytes.count)
        }
        dataStart = 8 + jsonLength

        let json = UnsafeRawBufferPointer(rebasing: bytes[8..<dataStart])
        let header = try SafeTensorsHeader.parse(json: json, path: path, dataStart: dataStart,
                                                 dataSize: bytes.count - dataStart)
        entriesByName = header.entries
        metadata = header.metadata
        names = header.entries.keys.sorted()
    }

    deinit {
        for copy in alignedCopies.values { copy.deallocate() }
    }

    /// All entries, sorted by name.
    public var entries: [SafeTensorsEntry] { names.compactMap { entriesByName[$0] } }

    /// The entry for `name`, or nil if the file has no such tensor.
    public func entry(_ name: String) -> SafeTensorsEntry? { entriesByName[name] }

    /// Whether the file holds a tensor called `name`.
    public func contains(_ name: String) -> Bool { entriesByName[name] != nil }

    /// Tensor, parameter and byte totals over the whole file.
    public var counts: TensorCounts { TensorCounts(entriesByName.values) }

    /// Totals per dtype string ("BF16", "F32", ...).
    public var countsByDType: [String: TensorCounts] { TensorCounts.byDType(entriesByName.values) }

    /// A view of tensor `name` in its stored dtype, with its stored shape.
    ///
    /// The data pointer is aligned to the element size: it points into the mapping, or, when the mapped
    /// bytes are misaligned (possible with odd header lengths), into an aligned copy made once and kept
    /// until this file object is freed. The view retains this file object, so it stays valid while held.
    ///
    /// - Throws: `IOError.tensorNotFound` (naming this file) or `IOError.unsupportedDType`.
    public func view(_ name: String) throws -> WeightView {
        guard let entry = entriesByName[name] else { throw IOError.tensorNotFound(path: path, tensor: name) }
        guard let dtype = entry.dtype else {
            throw IOError.unsupportedDType(path: path, tensor: name, dtype: entry.dtypeName)
        }
        return WeightView(name: name, dtype: dtype, shape: entry.shape,
                          data: alignedData(entry, alignment: dtype.byteSize), owner: self)
    }

    /// Tensor `name` widened to a new fp32 array (row-major, `entry(name).elementCount` values).
    ///
    /// Unlike a view, the result does not depend on this object staying alive, which makes it the safe
    /// choice for small tensors (norm weights, biases) and tests.
    ///
    /// - Throws: as `view(_:)`.
    public func floats(_ name: String) throws -> [Float] {
        try withExtendedLifetime(self) { try view(name).toFloatArray() }
    }

    /// The tensor's raw stored bytes, whatever the dtype (e.g. to copy an I64 buffer through unchanged).
    ///
    /// - Throws: `IOError.tensorNotFound`.
    public func rawBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        guard let entry = entriesByName[name] else { throw IOError.tensorNotFound(path: path, tensor: name) }
        return UnsafeRawBufferPointer(start: base + entry.fileRange.lowerBound, count: entry.byteCount)
    }

    /// Drops the file's pages from this process's resident memory (they stay in the page cache and are
    /// read back on the next access); views stay valid. For streaming passes over large files.
    public func releaseResidentPages() { mapped.releaseResidentPages() }

    /// `releaseResidentPages()` for tensor `name`'s pages only (nothing for an unknown name).
    public func releaseResidentPages(of name: String) {
        if let entry = entriesByName[name] { mapped.releaseResidentPages(entry.fileRange) }
    }

    private func alignedData(_ entry: SafeTensorsEntry, alignment: Int) -> UnsafeRawPointer {
        let start = base + entry.fileRange.lowerBound
        if entry.byteCount == 0 || Int(bitPattern: start) % alignment == 0 { return start }

        lock.lock()
        defer { lock.unlock() }
        if let copy = alignedCopies[entry.name] { return UnsafeRawPointer(copy) }
        let copy = UnsafeMutableRawPointer.allocate(byteCount: entry.byteCount, alignment: 64)
        copy.copyMemory(from: start, byteCount: entry.byteCount)
        alignedCopies[entry.name] = copy
        return UnsafeRawPointer(copy)
    }
}
