// Writes GGUF files (version 3, little-endian) that llama.cpp and the reader here load: metadata in the
// order it was set, tensor infos with ggml's innermost-first dimensions, the data section aligned to
// `general.alignment` (32 unless set otherwise), and every tensor's data offset a multiple of it. Tensor
// values are produced only while the file is written, one tensor (or one chunk of rows) at a time, so a
// model larger than memory can be written; the file appears atomically when complete.
//
// Layout written (see GGUFHeader.swift for the reader's side):
//   "GGUF" u32 3  u64 tensor_count  u64 kv_count  kv pairs  tensor infos  pad  data (each tensor padded)

import SecuraTensor

/// Collects metadata and tensors, then writes one GGUF file.
///
/// Usage: `var w = GGUFWriter(path: p); w.set("general.architecture", .string("llama")); try w.add(...);
/// try w.write()`. Sizes are known when a tensor is added, so `write()` writes the header first and then
/// the data; row sources are asked for at most `chunkElements` values at a time.
public struct GGUFWriter {
    /// The destination file.
    public let path: String
    /// The data alignment in bytes (a power of two).
    public let alignment: Int
    /// Values per chunk of a row source (rounded to whole rows). Must be positive.
    public var chunkElements = 1 << 20
    /// Called with each tensor's name and the data bytes written so far, after the tensor is written.
    public var afterEachTensor: ((String, Int) -> Void)?

    private var keys: [String] = []
    private var values: [String: GGUFValue] = [:]
    private var tensors: [Pending] = []
    private var names = Set<String>()

    /// A tensor to write: fp32 rows produced on demand, converted to `type`.
    private struct Pending {
        let name: String
        let shape: [Int]
        let type: GGMLType
        let byteCount: Int
        /// Fills `rows` (row-major, `shape.last` values per row) into the buffer.
        let fill: (Range<Int>, UnsafeMutablePointer<Float>) throws -> Void
        var rowLength: Int { shape.last ?? 1 }
        var rowCount: Int { rowLength == 0 ? 0 : shape.reduce(1, *) / rowLength }
    }

    /// Starts a file at `path`; nothing touches the disk before `write()`. An alignment other than the
    /// default 32 is recorded as `general.alignment` (UINT32), as the format requires.
    /// - Precondition: `alignment` is a power of two.
    public init(path: String, alignment: Int = 32) {
        precondition(alignment > 0 && alignment & (alignment - 1) == 0, "alignment \(alignment) is not a power of two")
        self.path = path
        self.alignment = alignment
        if alignment != 32 { set("general.alignment", .uint32(UInt32(alignment))) }
    }

    /// The metadata keys in the order they will be written.
    public var metadataKeys: [String] { keys }

    /// The value set for `key`, if any.
    public func value(_ key: String) -> GGUFValue? { values[key] }

    /// Sets `key` to `value`; a key set again keeps its first position.
    public mutating func set(_ key: String, _ value: GGUFValue) {
        if values[key] == nil { keys.append(key) }
        values[key] = value
    }

    /// Tensors added so far.
    public var tensorCount: Int { tensors.count }

    /// Bytes of tensor data (without alignment padding) added so far.
    public var dataByteCount: Int { tensors.reduce(0) { $0 + $1.byteCount } }

    /// Adds a tensor of row-major `shape` (outermost first, as Hugging Face writes it) whose fp32 rows
    /// `fill(rows, destination)` produces when the file is written, stored as `type`.
    ///
    /// - Throws: `IOError.invalidTensorToWrite` for an empty, too long or duplicate name, more than 4 or
    ///   negative dimensions, a type the writer cannot produce, or rows that are not whole blocks.
    public mutating func add(_ name: String, shape: [Int], type: GGMLType,
                             rows fill: @escaping (Range<Int>, UnsafeMutablePointer<Float>) throws -> Void) throws {
        func invalid(_ reason: String) -> IOError { .invalidTensorToWrite(path: path, tensor: name, reason: reason) }
        guard !name.isEmpty, name.utf8.count <= 63 else { throw invalid("a GGUF tensor name has 1 to 63 bytes") }
        guard !names.contains(name) else { throw invalid("the name is used twice") }
        guard shape.count <= 4, shape.allSatisfy({ $0 >= 0 }) else {
            throw invalid("shape \(shape): GGUF allows at most 4 non-negative dimensions")
        }
        guard GGUFEncode.writableTypes.contains(type) else {
            throw invalid("cannot write \(type) (writable: \(GGUFEncode.writableTypes.map(\.name).joined(separator: ", ")))")
        }
        let rowLength = shape.last ?? 1
        guard rowLength % type.blockSize == 0 else {
            throw invalid("rows of \(rowLength) values are not whole \(type) blocks of \(type.blockSize)")
        }
        let count = shape.reduce(1, *)
        tensors.append(Pending(name: name, shape: shape, type: type, byteCount: GGUFEncode.byteCount(type, count: count), fill: fill))
        names.insert(name)
    }

    /// Adds fp32 `floats` of row-major `shape`, stored as `type`.
    /// - Throws: as `add(_:shape:type:rows:)`, or when the value count differs from the shape's.
    public mutating func add(_ name: String, floats: [Float], shape: [Int], type: GGMLType) throws {
        let count = shape.reduce(1, *)
        guard floats.count == count else {
            throw IOError.invalidTensorToWrite(path: path, tensor: name, reason: "shape \(shape) has \(count) elements but \(floats.count) values were given")
        }
        let rowLength = shape.last ?? 1
        try add(name, shape: shape, type: type) { rows, out in
            floats.withUnsafeBufferPointer { src in
                out.update(from: src.baseAddress! + rows.lowerBound * rowLength, count: rows.count * rowLength)
            }
        }
    }

    /// The header: fixed part, metadata, tensor infos, padded to the alignment.
    func header() -> [UInt8] {
        var bytes: [UInt8] = Array("GGUF".utf8)
        GGUFEncode.appendInteger(UInt32(3), to: &bytes)
        GGUFEncode.appendInteger(UInt64(tensors.count), to: &bytes)
        GGUFEncode.appendInteger(UInt64(keys.count), to: &bytes)
        for key in keys {
            let value = values[key]!
            GGUFEncode.appendString(key, to: &bytes)
            GGUFEncode.appendInteger(value.type.rawValue, to: &bytes)
            GGUFEncode.appendValue(value, to: &bytes)
        }
        var offset = 0
        for t in tensors {
            GGUFEncode.appendString(t.name, to: &bytes)
            GGUFEncode.appendInteger(UInt32(t.shape.count), to: &bytes)
            for d in t.shape.reversed() { GGUFEncode.appendInteger(UInt64(d), to: &bytes) }
            GGUFEncode.appendInteger(t.type.rawValue, to: &bytes)
            GGUFEncode.appendInteger(UInt64(offset), to: &bytes)
            offset += padded(t.byteCount)
        }
        bytes.append(contentsOf: [UInt8](repeating: 0, count: padded(bytes.count) - bytes.count))
        return bytes
    }

    private func padded(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }

    /// Writes the file: header, then each tensor's rows chunk by chunk, converted and padded.
    ///
    /// - Throws: `IOError.cannotWrite` (folder, disk), `IOError.invalidTensorToWrite` when a tensor's
    ///   values are not finite, or whatever a row source throws; the destination is then unchanged.
    public func write() throws {
        precondition(chunkElements > 0, "chunkElements must be positive")
        let output = try AtomicFileWriter(path: path)
        try output.write(header())
        var written = 0
        for t in tensors {
            let rowsPerChunk = max(1, chunkElements / max(t.rowLength, 1))
            let values = FloatBuffer(count: min(t.rowCount, rowsPerChunk) * t.rowLength)
            let encoded = GGUFOwnedBytes(count: GGUFEncode.byteCount(t.type, count: values.count))
            var row = 0
            while row < t.rowCount {
                let rows = row..<min(t.rowCount, row + rowsPerChunk)
                let count = rows.count * t.rowLength
                try t.fill(rows, values.pointer)
                for i in 0..<count where !values.pointer[i].isFinite {
                    throw IOError.invalidTensorToWrite(path: path, tensor: t.name,
                                                       reason: "value \(rows.lowerBound * t.rowLength + i) is \(values.pointer[i])")
                }
                GGUFEncode.encode(t.type, from: values.pointer, count: count, into: encoded.pointer)
                try output.write(UnsafeRawBufferPointer(start: encoded.pointer, count: GGUFEncode.byteCount(t.type, count: count)))
                row = rows.upperBound
            }
            try output.write([UInt8](repeating: 0, count: padded(t.byteCount) - t.byteCount))
            written += t.byteCount
            afterEachTensor?(t.name, written)
        }
        try output.commit()
    }
}
