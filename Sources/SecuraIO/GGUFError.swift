// Every way reading a GGUF file can fail, each a one-line message naming the file, the key or tensor,
// the byte offset where the bad number was read, and what was expected versus found. The CLI prints
// `description` as-is.
import SecuraErrors

/// An error from the GGUF reader. Every case names the file.
public enum GGUFError: CategorizedError, CustomStringConvertible, Equatable {
    // MARK: The fixed header

    /// The file is shorter than the 24-byte fixed header (magic, version, two counts).
    case fileTooShort(path: String, size: Int, minimum: Int)
    /// The first four bytes are not "GGUF".
    case badMagic(path: String, found: [UInt8])
    /// A version other than 2 or 3 (`bigEndian` when the number reads as a byte-swapped 2 or 3).
    case unsupportedVersion(path: String, version: UInt32, bigEndian: Bool)
    /// A count (tensors, key-value pairs, array elements) that cannot fit in the bytes left in the file.
    case absurdCount(path: String, what: String, offset: Int, count: UInt64, limit: Int)

    // MARK: Metadata and tensor infos

    /// The file ends inside a field: `needed` bytes at `offset`, but the file has `fileSize` bytes.
    case truncated(path: String, what: String, offset: Int, needed: Int, fileSize: Int)
    /// A string (key, value or tensor name) is not valid UTF-8.
    case invalidUTF8(path: String, what: String, offset: Int)
    /// A metadata value type code outside the GGUF specification.
    case unknownValueType(path: String, key: String, offset: Int, type: UInt32)
    /// A metadata value that is well-formed but not allowed (a bool other than 0/1, arrays nested too deep).
    case invalidValue(path: String, key: String, offset: Int, reason: String)
    /// The same key appears twice.
    case duplicateKey(path: String, key: String, offset: Int)
    /// `general.alignment` is not a non-zero power of two (or not an unsigned integer).
    case invalidAlignment(path: String, found: String)
    /// A metadata value has a different type than the caller asked for.
    case wrongValueType(path: String, key: String, expected: String, found: String)
    /// A tensor info record is malformed (name, dimension count or a dimension).
    case invalidTensorInfo(path: String, tensor: String, offset: Int, reason: String)
    /// The same tensor name appears twice.
    case duplicateTensor(path: String, tensor: String, offset: Int)
    /// A tensor type code that ggml does not define.
    case unknownTensorType(path: String, tensor: String, offset: Int, type: UInt32)

    // MARK: Tensor data

    /// The row length (first dimension) is not a whole number of the type's blocks.
    case partialBlock(path: String, tensor: String, type: String, rowLength: Int, blockSize: Int)
    /// The tensor's data offset is not a multiple of the file's alignment.
    case misalignedTensor(path: String, tensor: String, offset: UInt64, alignment: Int)
    /// The tensor's bytes end past the end of the file (offsets here are file offsets).
    case tensorDataPastEnd(path: String, tensor: String, start: Int, end: Int, fileSize: Int)
    /// Two tensors' byte ranges overlap.
    case overlappingTensors(path: String, tensor: String, other: String)
    /// The tensor's type is valid GGUF but secura-dist cannot dequantise it.
    case unsupportedTensorType(path: String, tensor: String, type: String, supported: [String])
    /// No tensor of that name in the file.
    case tensorNotFound(path: String, tensor: String)

    /// Every GGUF error describes a file that is there but malformed or unusable: bad input data.
    public var category: ErrorCategory { .data }

    public var description: String {
        switch self {
        case let .fileTooShort(path, size, minimum):
            return "\(path): file has \(size) bytes, fewer than the \(minimum) of a GGUF header "
                + "(empty or truncated file?)"
        case let .badMagic(path, found):
            let text = found.map { (32...126).contains($0) ? String(UnicodeScalar($0)) : "." }.joined()
            let hex = found.map { String($0, radix: 16).leftPadded(to: 2) }.joined(separator: " ")
            return "\(path): not a GGUF file: expected magic \"GGUF\" at byte 0, found \"\(text)\" (\(hex))"
        case let .unsupportedVersion(path, version, bigEndian):
            if bigEndian {
                return "\(path): big-endian GGUF file (version \(version.byteSwapped)); only little-endian "
                    + "files are supported"
            }
            return "\(path): GGUF version \(version) at byte 4 is not supported (expected 2 or 3)"
        case let .absurdCount(path, what, offset, count, limit):
            return "\(path): \(what) \(count) at byte \(offset) cannot fit in the file "
                + "(at most \(limit) possible; corrupt file?)"

        case let .truncated(path, what, offset, needed, fileSize):
            return "\(path): truncated file: \(what) at byte \(offset) needs \(needed) bytes but the file "
                + "ends at byte \(fileSize)"
        case let .invalidUTF8(path, what, offset):
            return "\(path): \(what) at byte \(offset) is not valid UTF-8"
        case let .unknownValueType(path, key, offset, type):
            return "\(path): metadata '\(key)': unknown value type \(type) at byte \(offset) (expected 0...12)"
        case let .invalidValue(path, key, offset, reason):
            return "\(path): metadata '\(key)' at byte \(offset): \(reason)"
        case let .duplicateKey(path, key, offset):
            return "\(path): metadata key '\(key)' at byte \(offset) appears twice"
        case let .invalidAlignment(path, found):
            return "\(path): general.alignment must be a non-zero power of two, found \(found)"
        case let .wrongValueType(path, key, expected, found):
            return "\(path): metadata '\(key)' should be \(expected), found \(found)"
        case let .invalidTensorInfo(path, tensor, offset, reason):
            return "\(path): tensor '\(tensor)' (info at byte \(offset)): \(reason)"
        case let .duplicateTensor(path, tensor, offset):
            return "\(path): tensor '\(tensor)' at byte \(offset) appears twice"
        case let .unknownTensorType(path, tensor, offset, type):
            return "\(path): tensor '\(tensor)' has unknown ggml type \(type) (type field at byte \(offset))"

        case let .partialBlock(path, tensor, type, rowLength, blockSize):
            return "\(path): tensor '\(tensor)' (\(type)) has rows of \(rowLength) elements, not a multiple "
                + "of the \(type) block size \(blockSize)"
        case let .misalignedTensor(path, tensor, offset, alignment):
            return "\(path): tensor '\(tensor)' has data offset \(offset), not a multiple of the alignment "
                + "\(alignment)"
        case let .tensorDataPastEnd(path, tensor, start, end, fileSize):
            return "\(path): tensor '\(tensor)' data spans bytes \(start)..<\(end) but the file has \(fileSize) "
                + "bytes (truncated file?)"
        case let .overlappingTensors(path, tensor, other):
            return "\(path): tensor '\(tensor)' overlaps the data of tensor '\(other)'"
        case let .unsupportedTensorType(path, tensor, type, supported):
            return "\(path): tensor '\(tensor)' has type \(type), which secura-dist cannot dequantise "
                + "(supported: \(supported.joined(separator: ", ")))"
        case let .tensorNotFound(path, tensor):
            return "\(path): no tensor named '\(tensor)'"
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
