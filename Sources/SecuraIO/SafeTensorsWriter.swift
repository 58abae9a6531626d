// Writes .safetensors files that Hugging Face `safetensors`/transformers load as-is: sorted header keys,
// a header padded with spaces to a multiple of 8 bytes, tensor data ordered widest dtype first so every
// tensor stays aligned to its element size, and the whole file written atomically.

import SecuraTensor

/// Collects named tensors and writes them as one safetensors file.
///
/// Usage: `var writer = SafeTensorsWriter(path: p); try writer.add(...); try writer.write()`.
/// Tensors are validated as they are added; data is produced and copied only inside `write()`, one
/// tensor at a time, so a lazily computed tensor (`add(_:shape:as:producing:)`) costs one tensor of RAM.
/// Streaming sources cost one chunk (`chunkElements` values) instead: a stored tensor in another dtype
/// (`add(_:as:converting:)`) and a tensor filled range by range (`add(_:shape:as:streaming:)`). Every
/// size is known when a tensor is added, so `write()` writes the header first and then the data.
public struct SafeTensorsWriter {
    /// The destination file.
    public let path: String
    /// Free-form string metadata, stored under `__metadata__` (omitted when empty).
    public var metadata: [String: String]

    /// Called with each tensor's name once its data is written (e.g. to release the pages it was read from).
    public var afterEachTensor: ((String) -> Void)?

    private var tensors: [String: PendingTensor] = [:]

    /// Starts a file at `path`. Nothing touches the disk before `write()`.
    public init(path: String, metadata: [String: String] = [:]) {
        self.path = path
        self.metadata = metadata
    }

    /// The names added so far, sorted.
    public var names: [String] { tensors.keys.sorted() }

    /// Adds fp32 values with `shape`, stored as `dtype` (narrowed with round-to-nearest-even for f16/bf16).
    ///
    /// - Throws: `IOError.invalidTensorToWrite` for a duplicate or reserved name, a negative shape, or
    ///   `values.count` differing from the shape's element count.
    public mutating func add(_ name: String, floats values: [Float], shape: [Int], as dtype: DType = .f32) throws {
        let count = try elementCount(name, shape)
        guard values.count == count else {
            throw IOError.invalidTensorToWrite(path: path, tensor: name, reason: "shape \(shape) has \(count) "
                + "elements but \(values.count) values were given")
        }
        try insert(name, dtypeName: dtype.rawValue, shape: shape, byteCount: values.count * dtype.byteSize,
                   source: .floats(values, dtype))
    }

    /// Adds raw little-endian element bytes of `dtype` with `shape`.
    ///
    /// - Throws: `IOError.invalidTensorToWrite` for a duplicate or reserved name, a negative shape, or a
    ///   byte count differing from element count × element size.
    public mutating func add(_ name: String, dtype: DType, shape: [Int], bytes: [UInt8]) throws {
        try insert(name, dtypeName: dtype.rawValue, shape: shape, byteCount: bytes.count, source: .bytes(bytes))
    }

    /// Adds raw bytes of any dtype the safetensors format defines ("I64", "U8", ...), e.g. to carry a
    /// buffer through an export unchanged.
    ///
    /// - Throws: `IOError.invalidTensorToWrite` as above, or for a dtype string the format does not define.
    public mutating func add(_ name: String, dtypeName: String, shape: [Int], bytes: [UInt8]) throws {
        try insert(name, dtypeName: dtypeName, shape: shape, byteCount: bytes.count, source: .bytes(bytes))
    }

    /// Adds a stored tensor under `name` (default: the view's own name), copying its bytes at `write()`.
    /// The view's owner (a mapped file) must stay alive until then.
    ///
    /// - Throws: `IOError.invalidTensorToWrite` for a duplicate or reserved name.
    public mutating func add(_ view: WeightView, as name: String? = nil) throws {
        try insert(name ?? view.name, dtypeName: view.dtype.rawValue, shape: view.shape,
                   byteCount: view.byteCount, source: .view(view))
    }

    /// Adds a tensor whose fp32 values are computed only when the file is written (e.g. a merged weight),
    /// stored as `dtype`.
    ///
    /// - Throws: `IOError.invalidTensorToWrite` for a duplicate or reserved name or a negative shape; at
    ///   `write()`, the producer's own errors, or `.invalidTensorToWrite` if it returns the wrong count.
    public mutating func add(_ name: String, shape: [Int], as dtype: DType = .f32,
                             producing producer: @escaping () throws -> [Float]) throws {
        let count = try elementCount(name, shape)
        try insert(name, dtypeName: dtype.rawValue, shape: shape, byteCount: count * dtype.byteSize,
                   source: .producer(producer, dtype))
    }

    /// A stored tensor written as `dtype` under `name` (default: the view's name), converted chunk by
    /// chunk at `write()` (a byte copy when `dtype` is the view's own). The view's owner must stay alive.
    ///
    /// - Throws: `IOError.invalidTensorToWrite` for a duplicate or reserved name.
    public mutating func add(_ view: WeightView, as name: String? = nil, converting dtype: DType) throws {
        guard dtype != view.dtype else { return try add(view, as: name) }
        try insert(name ?? view.name, dtypeName: dtype.rawValue, shape: view.shape,
                   byteCount: view.count * dtype.byteSize, source: .convertedView(view, dtype))
    }

    /// Adds a tensor whose fp32 values are produced range by range at `write()`: `fill(range, into)` must
    /// write the elements `range` (flat, row-major) into `into` (range.count values). Ranges are
    /// consecutive, at most `chunkElements` long, and cover the tensor once. Stored as `dtype`.
    ///
    /// - Throws: `IOError.invalidTensorToWrite` for a duplicate or reserved name or a negative shape; at
    ///   `write()`, the filler's own errors.
    public mutating func add(_ name: String, shape: [Int], as dtype: DType = .f32,
                             streaming fill: @escaping (Range<Int>, UnsafeMutableBufferPointer<Float>) throws -> Void) throws {
        let count = try elementCount(name, shape)
        try insert(name, dtypeName: dtype.rawValue, shape: shape, byteCount: count * dtype.byteSize,
                   source: .stream(fill, dtype))
    }

    /// Elements per chunk of the streaming sources (4 MiB of fp32).
    public static let chunkElements = 1 << 20

    /// Bytes of tensor data the file will hold (the sum of every added tensor's size).
    public var dataByteCount: Int { tensors.values.reduce(0) { $0 + $1.byteCount } }

    /// Writes the file atomically (temporary file, fsync, rename); on any error the destination is left
    /// as it was.
    ///
    /// - Throws: `IOError.cannotWrite` (missing or unwritable folder, disk full), `.invalidTensorToWrite`
    ///   from a lazy producer, or a producer's own error.
    public func write() throws {
        let layout = SafeTensorsLayout(tensors: tensors.mapValues { ($0.dtypeName, $0.shape, $0.byteCount) },
                                       metadata: metadata)
        let output = try AtomicFileWriter(path: path)
        defer { output.abandon() }
        var prefix = UInt64(layout.header.count).littleEndian
        try withUnsafeBytes(of: &prefix) { try output.write($0) }
        try output.write(layout.header)
        for name in layout.dataOrder {
            guard let tensor = tensors[name] else { continue }
            try writeData(of: tensor, named: name, to: output)
            afterEachTensor?(name)
        }
        try output.commit()
    }

    // MARK: Private

    private func writeData(of tensor: PendingTensor, named name: String, to output: AtomicFileWriter) throws {
        switch tensor.source {
        case let .bytes(bytes):
            try output.write(bytes)
        case let .view(view):
            try output.write(UnsafeRawBufferPointer(start: view.data, count: view.byteCount))
        case let .floats(values, dtype):
            try Self.writeFloats(values, as: dtype, to: output)
        case let .producer(producer, dtype):
            let values = try producer()
            guard values.count * dtype.byteSize == tensor.byteCount else {
                throw IOError.invalidTensorToWrite(path: path, tensor: name, reason: "producer returned "
                    + "\(values.count) values for shape \(tensor.shape)")
            }
            try Self.writeFloats(values, as: dtype, to: output)
        case let .convertedView(view, dtype):
            try Self.stream(count: view.count, as: dtype, to: output) { range, chunk in
                view.widen(start: range.lowerBound, count: range.count, into: chunk.baseAddress!)
            }
        case let .stream(fill, dtype):
            try Self.stream(count: tensor.byteCount / dtype.byteSize, as: dtype, to: output, fill)
        }
    }

    /// Writes `count` fp32 values that `fill` produces chunk by chunk, narrowed to `dtype`.
    private static func stream(count: Int, as dtype: DType, to output: AtomicFileWriter,
                               _ fill: (Range<Int>, UnsafeMutableBufferPointer<Float>) throws -> Void) throws {
        var chunk = [Float](repeating: 0, count: min(count, chunkElements))
        var start = 0
        while start < count {
            let end = min(start + chunkElements, count)
            try chunk.withUnsafeMutableBufferPointer { try fill(start..<end, UnsafeMutableBufferPointer(rebasing: $0[0..<(end - start)])) }
            try writeFloats(chunk[0..<(end - start)], as: dtype, to: output)
            start = end
        }
    }

    /// Writes fp32 values as `dtype`, narrowing in bounded chunks so a huge tensor needs no second copy.
    private static func writeFloats(_ values: [Float], as dtype: DType, to output: AtomicFileWriter) throws {
        try writeFloats(values[...], as: dtype, to: output)
    }

    private static func writeFloats(_ values: ArraySlice<Float>, as dtype: DType, to output: AtomicFileWriter) throws {
        let chunk = chunkElements
        var start = values.startIndex
        while start < values.endIndex {
            let end = min(start + chunk, values.endIndex)
            switch dtype {
            case .f32:
                #if _endian(little)
                try values[start..<end].withUnsafeBytes { try output.write($0) }
                #else
                try output.write(values[start..<end].map { $0.bitPattern.littleEndian })
                #endif
            case .bf16: try output.write(values[start..<end].map { DTypeConversion.floatToBF16($0).littleEndian })
            case .f16: try output.write(values[start..<end].map { DTypeConversion.floatToHalf($0).littleEndian })
            }
            start = end
        }
    }

    private mutating func insert(_ name: String, dtypeName: String, shape: [Int], byteCount: Int,
                                 source: PendingTensor.Source) throws {
        func invalid(_ reason: String) -> IOError { .invalidTensorToWrite(path: path, tensor: name, reason: reason) }
        guard !name.isEmpty else { throw invalid("the name is empty") }
        guard name != SafeTensorsHeader.metadataKey else { throw invalid("the name is reserved for metadata") }
        guard tensors[name] == nil else { throw invalid("a tensor of that name was already added") }
        guard let bits = DTypeName.bitsPerElement(dtypeName) else {
            throw invalid("dtype \(dtypeName) is not a safetensors dtype")
        }
        let count = try elementCount(name, shape)
        let (totalBits, overflow) = count.multipliedReportingOverflow(by: bits)
        guard !overflow, totalBits % 8 == 0, totalBits / 8 == byteCount else {
            throw invalid("shape \(shape) of \(dtypeName) needs \(overflow ? "too many" : String(totalBits / 8)) "
                + "bytes but \(byteCount) were given")
        }
        tensors[name] = PendingTensor(dtypeName: dtypeName, shape: shape, byteCount: byteCount, source: source)
    }

    private func elementCount(_ name: String, _ shape: [Int]) throws -> Int {
        var count = 1
        for dim in shape {
            guard dim >= 0 else {
                throw IOError.invalidTensorToWrite(path: path, tensor: name,
                                                   reason: "shape \(shape) has a negative dimension")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow else {
                throw IOError.invalidTensorToWrite(path: path, tensor: name, reason: "shape \(shape) overflows")
            }
            count = product
        }
        return count
    }
}

/// A tensor waiting to be written.
private struct PendingTensor {
    enum Source {
        case bytes([UInt8])
        case floats([Float], DType)
        case view(WeightView)
        case producer(() throws -> [Float], DType)
        case convertedView(WeightView, DType)
        case stream((Range<Int>, UnsafeMutableBufferPointer<Float>) throws -> Void, DType)
    }

    let dtypeName: String
    let shape: [Int]
    let byteCount: Int
    let source: Source
}
