// Writes one .safetensors file whose tensors are declared up front and whose data then arrives in
// chunks of any size, so a file far larger than RAM (an 8B model's 1 GB embedding, a 5 GB shard) is
// written with one chunk in memory. Same bytes as SafeTensorsWriter for the same tensors: the header
// comes from SafeTensorsLayout (sorted keys, padded to 8 bytes, widest dtype first), and the file is
// written atomically (temporary name, fsync, rename).

import SecuraTensor

/// Streams tensor data into a safetensors file in the order the header lays it out.
///
/// Usage: `let w = try SafeTensorsStreamWriter(path: p, tensors: specs)`; then, while
/// `w.currentTensor` is not nil, `try w.append(bytes)` with that tensor's little-endian element bytes
/// (any number of calls; a chunk may not cross into the next tensor); finally `try w.commit()`.
/// Dropping the writer before `commit` leaves the destination untouched.
public final class SafeTensorsStreamWriter {
    /// A tensor to be written: its name, storage type and shape.
    public struct TensorSpec: Sendable, Equatable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        public init(name: String, dtype: DType, shape: [Int]) {
            self.name = name
            self.dtype = dtype
            self.shape = shape
        }
        /// Element count (the product of the shape).
        public var count: Int { shape.reduce(1, *) }
        /// Data size in bytes.
        public var byteCount: Int { count * dtype.byteSize }
    }

    /// The destination file.
    public let path: String
    /// The tensors in the order their data must be appended.
    public let dataOrder: [TensorSpec]
    /// Bytes of tensor data in the file (header excluded).
    public let dataByteCount: Int

    private let output: AtomicFileWriter
    private var tensorIndex = 0
    private var writtenInTensor = 0

    /// Validates `tensors`, creates the temporary file and writes the header.
    ///
    /// - Throws: `IOError.invalidTensorToWrite` for an empty, reserved or duplicate name or a negative or
    ///   overflowing shape; `IOError.cannotWrite` when the folder is missing or unwritable.
    public init(path: String, tensors: [TensorSpec], metadata: [String: String] = [:]) throws {
        self.path = path
        var byName: [String: TensorSpec] = [:]
        for t in tensors {
            func invalid(_ reason: String) -> IOError { .invalidTensorToWrite(path: path, tensor: t.name, reason: reason) }
            guard !t.name.isEmpty else { throw invalid("the name is empty") }
            guard t.name != SafeTensorsHeader.metadataKey else { throw invalid("the name is reserved for metadata") }
            guard byName[t.name] == nil else { throw invalid("a tensor of that name was already added") }
            var bytes = t.dtype.byteSize
            for dim in t.shape {
                guard dim >= 0 else { throw invalid("shape \(t.shape) has a negative dimension") }
                let (product, overflow) = bytes.multipliedReportingOverflow(by: dim)
                guard !overflow else { throw invalid("shape \(t.shape) overflows") }
                bytes = product
            }
            byName[t.name] = t
        }
        let layout = SafeTensorsLayout(tensors: byName.mapValues { ($0.dtype.rawValue, $0.shape, $0.byteCount) },
                                       metadata: metadata)
        dataOrder = layout.dataOrder.compactMap { byName[$0] }
        dataByteCount = dataOrder.reduce(0) { $0 + $1.byteCount }
        output = try AtomicFileWriter(path: path)
        var prefix = UInt64(layout.header.count).littleEndian
        try withUnsafeBytes(of: &prefix) { try output.write($0) }
        try output.write(layout.header)
        skipEmptyTensors()
    }

    /// The tensor whose data `append` expects next, or nil when every tensor is complete.
    public var currentTensor: TensorSpec? {
        tensorIndex < dataOrder.count ? dataOrder[tensorIndex] : nil
    }

    /// Bytes the current tensor still needs.
    public var remainingInCurrentTensor: Int {
        (currentTensor?.byteCount ?? 0) - writtenInTensor
    }

    /// Appends data of the current tensor.
    ///
    /// - Throws: `IOError.invalidTensorToWrite` when the chunk is longer than what the current tensor
    ///   still needs (or every tensor is complete); `IOError.cannotWrite` on a write failure.
    public func append(_ bytes: UnsafeRawBufferPointer) throws {
        guard let tensor = currentTensor else {
            throw IOError.invalidTensorToWrite(path: path, tensor: "(none)",
                                               reason: "\(bytes.count) bytes appended after the last tensor")
        }
        guard bytes.count <= remainingInCurrentTensor else {
            throw IOError.invalidTensorToWrite(path: path, tensor: tensor.name, reason: "a chunk of \(bytes.count) "
                + "bytes crosses the tensor's end (\(remainingInCurrentTensor) bytes left)")
        }
        try output.write(bytes)
        writtenInTensor += bytes.count
        if writtenInTensor == tensor.byteCount {
            tensorIndex += 1
            writtenInTensor = 0
            skipEmptyTensors()
        }
    }

    /// Appends the bytes of an array (see `append(_:)`).
    public func append<T>(_ values: [T]) throws {
        try values.withUnsafeBytes { try append($0) }
    }

    /// Flushes and renames the file into place.
    ///
    /// - Throws: `IOError.invalidTensorToWrite` naming the first incomplete tensor (the file is then
    ///   discarded); `IOError.cannotWrite` if syncing or renaming fails.
    public func commit() throws {
        if let tensor = currentTensor {
            output.abandon()
            throw IOError.invalidTensorToWrite(path: path, tensor: tensor.name, reason: "incomplete: "
                + "\(writtenInTensor) of \(tensor.byteCount) bytes written")
        }
        try output.commit()
    }

    /// Discards the temporary file; the destination is left as it was.
    public func abandon() { output.abandon() }

    private func skipEmptyTensors() {
        while let t = currentTensor, t.byteCount == 0 { tensorIndex += 1 }
    }
}
