// One GGUF file (llama.cpp's model format), memory-mapped and validated when opened. Metadata is
// parsed into values; tensor data stays in the mapping until a caller reads or dequantises it.
// Metadata accessors are in GGUFFile+Metadata.swift, tensor data access in GGUFFile+Data.swift.

import SecuraTensor

/// A validated, memory-mapped GGUF file (versions 2 and 3, little-endian).
///
/// Opening checks the whole header (see `GGUFHeader`): after it succeeds every tensor's byte range lies
/// inside the file and matches its type and dimensions. Safe to share between threads.
public final class GGUFFile: @unchecked Sendable {
    /// The path the file was opened with.
    public let path: String
    /// The format version (2 or 3).
    public let version: UInt32
    /// Every metadata key-value pair.
    public let metadata: [String: GGUFValue]
    /// The metadata keys in file order.
    public let metadataKeys: [String]
    /// Every tensor, in file order.
    public let tensors: [GGUFTensorInfo]
    /// The data alignment (`general.alignment`, default 32).
    public let alignment: Int
    /// File offset of the data section.
    public let dataStart: Int
    /// The file's size in bytes.
    public var fileSize: Int { mapped.size }

    let mapped: MappedFile
    private let tensorIndex: [String: Int]

    /// Maps and validates the file at `path`.
    ///
    /// - Throws: `IOError.fileNotFound`, `.notARegularFile`, `.cannotOpen`, `.cannotMap` (opening) and
    ///   `GGUFError` for anything wrong inside the file (see the cases' documentation).
    public convenience init(path: String) throws {
        try self.init(MappedFile(path: path))
    }

    /// Validates `bytes` as the contents of a GGUF file called `path` (copied; for tests and fuzzing).
    ///
    /// - Throws: `GGUFError`, as `init(path:)`.
    public convenience init(bytes: UnsafeRawBufferPointer, path: String) throws {
        try self.init(MappedFile(copying: bytes, path: path))
    }

    private init(_ mapped: MappedFile) throws {
        self.path = mapped.path
        self.mapped = mapped
        let header = try GGUFHeader.parse(mapped.bytes, path: path)
        version = header.version
        metadata = header.metadata
        metadataKeys = header.metadataKeys
        tensors = header.tensors
        alignment = header.alignment
        dataStart = header.dataStart
        var index: [String: Int] = [:]
        for (i, t) in tensors.enumerated() { index[t.name] = i }
        tensorIndex = index
    }

    /// The info of tensor `name`, or nil when the file has none.
    public func tensor(_ name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// Whether the file holds a tensor called `name`.
    public func contains(_ name: String) -> Bool { tensorIndex[name] != nil }

    /// `general.architecture` (e.g. "llama", "qwen2"), when present and a string.
    public var architecture: String? { metadata["general.architecture"]?.stringValue }

    /// The info of tensor `name`.
    /// - Throws: `GGUFError.tensorNotFound`.
    public func requireTensor(_ name: String) throws -> GGUFTensorInfo {
        guard let info = tensor(name) else { throw GGUFError.tensorNotFound(path: path, tensor: name) }
        return info
    }
}
