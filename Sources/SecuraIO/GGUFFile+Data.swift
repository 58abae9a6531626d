// Tensor data of a GGUF file: raw bytes, zero-copy views of plain float tensors, and dequantisation
// of any supported type to fp32 (whole tensors or row ranges, so a caller can shard rows).

import SecuraTensor

/// An owned, aligned block of bytes; the `owner` of views whose bytes are not in the mapping.
public final class GGUFOwnedBytes: @unchecked Sendable {
    public let pointer: UnsafeMutableRawPointer
    public let count: Int

    /// Allocates `count` uninitialised bytes aligned to 64.
    public init(count: Int) {
        self.count = count
        pointer = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
    }

    deinit { pointer.deallocate() }
}

extension GGUFFile {
    /// The tensor's stored bytes, valid while this file object is alive.
    /// - Throws: `GGUFError.tensorNotFound`.
    public func rawBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        let info = try requireTensor(name)
        return UnsafeRawBufferPointer(rebasing: mapped.bytes[info.fileRange])
    }

    /// A view of an F32, F16 or BF16 tensor in its stored dtype with its row-major `shape`, straight
    /// from the mapping (or, if the bytes are misaligned for the element size, from an aligned copy the
    /// view owns). The view retains this file.
    ///
    /// - Throws: `GGUFError.tensorNotFound`, or `.unsupportedTensorType` for quantised types (use
    ///   `dequantize` or `floats` for those).
    public func view(_ name: String) throws -> WeightView {
        let info = try requireTensor(name)
        guard let dtype = info.type.plainDType else {
            throw GGUFError.unsupportedTensorType(path: path, tensor: name, type: info.type.name,
                                                  supported: ["F32", "F16", "BF16"])
        }
        let bytes = try rawBytes(name)
        if let base = bytes.baseAddress, Int(bitPattern: base) % dtype.byteSize == 0 {
            return WeightView(name: name, dtype: dtype, shape: info.shape, data: base, owner: self)
        }
        let copy = GGUFOwnedBytes(count: bytes.count)
        if bytes.count > 0 { copy.pointer.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        return WeightView(name: name, dtype: dtype, shape: info.shape, data: UnsafeRawPointer(copy.pointer), owner: copy)
    }

    /// Dequantises rows `rows` (all rows when nil) of tensor `name` to fp32 at `destination`, which must
    /// hold `rows.count × rowLength` values. Rows are split over `Parallel.threads` workers.
    ///
    /// - Throws: `GGUFError.tensorNotFound` or `.unsupportedTensorType`.
    /// - Precondition: `rows` lies within the tensor's rows.
    public func dequantize(_ name: String, rows: Range<Int>? = nil, into destination: UnsafeMutablePointer<Float>) throws {
        let info = try requireTensor(name)
        guard info.type.isDequantizable else {
            throw GGUFError.unsupportedTensorType(path: path, tensor: name, type: info.type.name,
                                                  supported: GGMLType.dequantizable.map(\.name))
        }
        let range = rows ?? 0..<info.rowCount
        precondition(range.lowerBound >= 0 && range.upperBound <= info.rowCount,
                     "rows \(range) outside the \(info.rowCount) rows of \(name)")
        guard let base = mapped.bytes.baseAddress, !range.isEmpty, info.rowLength > 0 else { return }
        let source = base + info.fileRange.lowerBound
        let rowLength = info.rowLength, rowBytes = info.rowByteCount
        // Chunks of at least ~64k values keep small tensors on the calling thread.
        let minRows = max(1, 65_536 / rowLength)
        Parallel.forRanges(range.count, minChunk: minRows) { chunk in
            let first = range.lowerBound + chunk.lowerBound
            GGUFDequantize.dequantize(info.type, from: source + first * rowBytes, count: chunk.count * rowLength,
                                      into: destination + chunk.lowerBound * rowLength)
        }
    }

    /// Tensor `name` dequantised to a new fp32 array (row-major, `elementCount` values).
    /// - Throws: as `dequantize`.
    public func floats(_ name: String) throws -> [Float] {
        let info = try requireTensor(name)
        var values = [Float](repeating: 0, count: info.elementCount)
        try values.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else {
                // Nothing to convert, but an unsupported type is still an error.
                guard info.type.isDequantizable else { try dequantizeCheck(info); return }
                return
            }
            try dequantize(name, into: base)
        }
        return values
    }

    private func dequantizeCheck(_ info: GGUFTensorInfo) throws {
        throw GGUFError.unsupportedTensorType(path: path, tensor: info.name, type: info.type.name,
                                              supported: GGMLType.dequantizable.map(\.name))
    }
}
