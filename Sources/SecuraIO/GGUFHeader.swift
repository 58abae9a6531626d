// Parses and validates everything in a GGUF file before its tensor data: the fixed header, the
// metadata key-value pairs and the tensor infos, then checks every tensor's byte range against the
// file. Like llama.cpp's gguf.cpp, it trusts no number: counts are bounded by the bytes left before
// anything is allocated, and every offset and size is overflow-checked.
//
// Layout (little-endian, versions 2 and 3):
//   "GGUF"  u32 version  u64 tensor_count  u64 kv_count
//   kv_count × { string key, u32 value_type, value }          string = u64 length + UTF-8 bytes
//   tensor_count × { string name, u32 n_dims, n_dims × u64 ne, u32 ggml_type, u64 offset }
//   padding to general.alignment (default 32), then the data section; offsets are relative to it.

/// The validated contents of a GGUF file's header.
struct GGUFHeader {
    static let magic: [UInt8] = Array("GGUF".utf8)
    static let fixedSize = 24
    static let defaultAlignment = 32
    static let alignmentKey = "general.alignment"
    /// ggml's GGML_MAX_DIMS.
    static let maxDimensions = 4
    /// ggml's GGML_MAX_NAME (names are stored with a terminator, so at most 63 bytes).
    static let maxNameBytes = 63
    /// Fewest bytes of one key-value pair (empty key: 8-byte length, 4-byte type, a 1-byte value).
    static let minimumKVSize = 13
    /// Fewest bytes of one tensor info (empty name: 8-byte length, 4-byte n_dims, type, 8-byte offset).
    static let minimumTensorInfoSize = 24

    let version: UInt32
    let metadata: [String: GGUFValue]
    let metadataKeys: [String]
    let tensors: [GGUFTensorInfo]
    let alignment: Int
    let dataStart: Int

    /// Parses `bytes` (the whole file). `path` names the file in errors.
    static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws -> GGUFHeader {
        guard bytes.count >= fixedSize else {
            throw GGUFError.fileTooShort(path: path, size: bytes.count, minimum: fixedSize)
        }
        let head = Array(bytes[0..<4])
        guard head == magic else { throw GGUFError.badMagic(path: path, found: head) }
        var c = GGUFCursor(bytes: bytes, path: path, offset: 4)
        let version = try c.read(UInt32.self, "version")
        guard version == 2 || version == 3 else {
            let swapped = version.byteSwapped
            throw GGUFError.unsupportedVersion(path: path, version: version, bigEndian: swapped == 2 || swapped == 3)
        }

        let tensorCount = try c.read(UInt64.self, "tensor count")
        let kvCount = try c.read(UInt64.self, "key-value count")
        let left = bytes.count - fixedSize
        let tensorLimit = left / minimumTensorInfoSize
        guard tensorCount <= UInt64(tensorLimit) else {
            throw GGUFError.absurdCount(path: path, what: "tensor count", offset: 8, count: tensorCount, limit: tensorLimit)
        }
        let kvLimit = (left - Int(tensorCount) * minimumTensorInfoSize) / minimumKVSize
        guard kvCount <= UInt64(kvLimit) else {
            throw GGUFError.absurdCount(path: path, what: "key-value count", offset: 16, count: kvCount, limit: kvLimit)
        }

        var metadata: [String: GGUFValue] = [:]
        var keys: [String] = []
        keys.reserveCapacity(Int(kvCount))
        for index in 0..<Int(kvCount) {
            let keyAt = c.offset
            let key = try c.string("key of metadata entry \(index)")
            guard metadata[key] == nil else { throw GGUFError.duplicateKey(path: path, key: key, offset: keyAt) }
            let typeAt = c.offset
            let code = try c.read(UInt32.self, "value type of '\(key)'")
            guard let type = GGUFValueType(rawValue: code) else {
                throw GGUFError.unknownValueType(path: path, key: key, offset: typeAt, type: code)
            }
            metadata[key] = try c.value(type, key: key)
            keys.append(key)
        }
        let alignment = try Self.alignment(metadata[alignmentKey], path: path)

        var raw: [RawInfo] = []
        raw.reserveCapacity(Int(tensorCount))
        var seen = Set<String>()
        for index in 0..<Int(tensorCount) {
            let info = try readInfo(&c, index: index, path: path)
            guard seen.insert(info.name).inserted else {
                throw GGUFError.duplicateTensor(path: path, tensor: info.name, offset: info.infoOffset)
            }
            raw.append(info)
        }

        let (padded, overflow) = c.offset.addingReportingOverflow(alignment - 1)
        precondition(!overflow, "offsets are bounded by the file size")
        let dataStart = padded / alignment * alignment
        let tensors = try raw.map { try $0.validated(dataStart: dataStart, alignment: alignment, fileSize: bytes.count, path: path) }
        try checkOverlaps(tensors, path: path)
        return GGUFHeader(version: version, metadata: metadata, metadataKeys: keys, tensors: tensors,
                          alignment: alignment, dataStart: dataStart)
    }

    private static func alignment(_ value: GGUFValue?, path: String) throws -> Int {
        guard let value else { return defaultAlignment }
        let unsigned: Bool
        switch value {
        case .uint8, .uint16, .uint32, .uint64: unsigned = true
        default: unsigned = false
        }
        guard unsigned, let a = value.intValue, a > 0, a & (a - 1) == 0, a <= 1 << 30 else {
            throw GGUFError.invalidAlignment(path: path, found: "\(value) (\(value.typeDescription))")
        }
        return a
    }

    /// A tensor info as read, before its data range is checked.
    private struct RawInfo {
        let name: String
        let dimensions: [Int]
        let elementCount: Int
        let type: GGMLType
        let offset: UInt64
        let infoOffset: Int

        func validated(dataStart: Int, alignment: Int, fileSize: Int, path: String) throws -> GGUFTensorInfo {
            let rowLength = dimensions.first ?? 1
            guard rowLength % type.blockSize == 0 else {
                throw GGUFError.partialBlock(path: path, tensor: name, type: type.name, rowLength: rowLength,
                                             blockSize: type.blockSize)
            }
            let (byteCount, tooBig) = (elementCount / type.blockSize).multipliedReportingOverflow(by: type.bytesPerBlock)
            guard !tooBig else {
                throw GGUFError.invalidTensorInfo(path: path, tensor: name, offset: infoOffset,
                                                  reason: "\(dimensions) of \(type.name) is too large to address")
            }
            guard offset % UInt64(alignment) == 0 else {
                throw GGUFError.misalignedTensor(path: path, tensor: name, offset: offset, alignment: alignment)
            }
            let start = dataStart.addingReportingOverflow(Int(clamping: offset))
            let end = start.partialValue.addingReportingOverflow(byteCount)
            guard offset <= UInt64(Int.max), !start.overflow, !end.overflow, end.partialValue <= fileSize else {
                let s = start.overflow ? Int.max : start.partialValue
                throw GGUFError.tensorDataPastEnd(path: path, tensor: name, start: s,
                                                  end: end.overflow ? Int.max : end.partialValue, fileSize: fileSize)
            }
            return GGUFTensorInfo(name: name, type: type, dimensions: dimensions, elementCount: elementCount,
                                  offset: Int(offset), fileRange: start.partialValue..<end.partialValue,
                                  infoOffset: infoOffset)
        }
    }

    private static func readInfo(_ c: inout GGUFCursor, index: Int, path: String) throws -> RawInfo {
        let infoAt = c.offset
        let name = try c.string("name of tensor \(index)")
        func invalid(_ reason: String) -> GGUFError {
            .invalidTensorInfo(path: path, tensor: name, offset: infoAt, reason: reason)
        }
        guard !name.isEmpty else { throw invalid("the name is empty") }
        guard name.utf8.count <= maxNameBytes else {
            throw invalid("the name has \(name.utf8.count) bytes; ggml allows at most \(maxNameBytes)")
        }
        let nDims = try c.read(UInt32.self, "dimension count of tensor '\(name)'")
        guard nDims <= maxDimensions else {
            throw invalid("\(nDims) dimensions; at most \(maxDimensions) are allowed")
        }
        var dims: [Int] = []
        var count = 1
        for axis in 0..<Int(nDims) {
            let d = try c.read(UInt64.self, "dimension \(axis) of tensor '\(name)'")
            guard d <= UInt64(Int64.max) else { throw invalid("dimension \(axis) is \(d), beyond a signed 64-bit size") }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(d))
            guard !overflow else { throw invalid("dimensions \(dims + [Int(d)]) overflow a 64-bit element count") }
            count = product
            dims.append(Int(d))
        }
        let typeAt = c.offset
        let code = try c.read(UInt32.self, "type of tensor '\(name)'")
        guard let type = GGMLType(rawValue: code) else {
            throw GGUFError.unknownTensorType(path: path, tensor: name, offset: typeAt, type: code)
        }
        let offset = try c.read(UInt64.self, "data offset of tensor '\(name)'")
        return RawInfo(name: name, dimensions: dims, elementCount: count, type: type, offset: offset, infoOffset: infoAt)
    }

    private static func checkOverlaps(_ tensors: [GGUFTensorInfo], path: String) throws {
        let sorted = tensors.filter { $0.byteCount > 0 }.sorted { $0.fileRange.lowerBound < $1.fileRange.lowerBound }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.fileRange.upperBound > b.fileRange.lowerBound {
            throw GGUFError.overlappingTensors(path: path, tensor: b.name, other: a.name)
        }
    }
}
