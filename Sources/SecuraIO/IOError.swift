// Every way reading or writing a model file can fail, each with a one-line message naming the file,
// the tensor where there is one, and what was expected versus found. The CLI prints `description`
// as-is, so messages are written for users, not for developers.
import SecuraErrors

/// An error from SecuraIO. Every case names the file or folder it concerns.
public enum IOError: CategorizedError, CustomStringConvertible, Equatable {
    // MARK: Files and folders

    /// The file does not exist.
    case fileNotFound(path: String)
    /// The path exists but is not a regular file (`kind` says what it is, e.g. "a directory").
    case notARegularFile(path: String, kind: String)
    /// The file exists but could not be opened or inspected (`reason` is the system's message).
    case cannotOpen(path: String, reason: String)
    /// The file could not be memory-mapped.
    case cannotMap(path: String, reason: String)
    /// The model folder does not exist (or is not a folder).
    case folderNotFound(path: String)
    /// The model folder holds none of the expected weight files.
    case noModelWeights(folder: String, expected: [String])
    /// The file could not be written (unwritable or missing folder, disk full, ...).
    case cannotWrite(path: String, reason: String)

    // MARK: The safetensors header

    /// The file is shorter than the fixed-size prefix (the 8-byte header length).
    case fileTooShort(path: String, size: Int, minimum: Int)
    /// The declared header length exceeds the sanity cap.
    case headerTooLarge(path: String, headerLength: UInt64, limit: Int)
    /// The declared header length runs past the end of the file.
    case headerPastEnd(path: String, headerLength: UInt64, fileSize: Int)
    /// The header is not valid JSON; `offset` is the byte offset in the file where parsing failed.
    case invalidJSON(path: String, offset: Int, reason: String)
    /// The header is valid JSON but not a valid safetensors header.
    case invalidHeader(path: String, reason: String)
    /// One tensor's header entry is malformed (missing or mistyped field).
    case invalidEntry(path: String, tensor: String, reason: String)
    /// One tensor's shape is negative, not an integer, or its element count overflows.
    case invalidShape(path: String, tensor: String, reason: String)

    // MARK: Tensor data

    /// `data_offsets` has begin greater than end.
    case offsetsReversed(path: String, tensor: String, begin: Int, end: Int)
    /// The tensor's data ends past the end of the data section (offsets relative to the data section).
    case dataPastEnd(path: String, tensor: String, end: Int, dataSize: Int)
    /// `end - begin` differs from element count × element size.
    case sizeMismatch(path: String, tensor: String, dtype: String, shape: [Int], expectedBytes: Int, foundBytes: Int)
    /// The tensor's dtype is not one secura-dist computes with (F32, F16, BF16).
    case unsupportedDType(path: String, tensor: String, dtype: String)
    /// No tensor of that name in the file or model folder.
    case tensorNotFound(path: String, tensor: String)

    // MARK: Sharded models

    /// `model.safetensors.index.json` is malformed.
    case invalidIndex(path: String, reason: String)
    /// The index assigns tensors to a shard file that does not exist (`tensor` is one of them).
    case missingShard(index: String, shard: String, tensor: String)
    /// The index assigns a tensor to a shard that does not contain it.
    case tensorNotInShard(index: String, shard: String, tensor: String)

    // MARK: Writing

    /// A tensor handed to the writer is inconsistent (bad name, shape or byte count).
    case invalidTensorToWrite(path: String, tensor: String, reason: String)

    /// Files and folders that cannot be found, opened or written are I/O failures; a file that is there
    /// but malformed is bad data; a tensor the caller handed the writer inconsistently is a bug.
    public var category: ErrorCategory {
        switch self {
        case .fileNotFound, .notARegularFile, .cannotOpen, .cannotMap, .folderNotFound, .noModelWeights,
             .cannotWrite, .missingShard:
            return .io
        case .invalidTensorToWrite:
            return .internal
        default:
            return .data
        }
    }

    public var description: String {
        switch self {
        case let .fileNotFound(path):
            return "\(path): file not found"
        case let .notARegularFile(path, kind):
            return "\(path): expected a file but found \(kind)"
        case let .cannotOpen(path, reason):
            return "\(path): cannot open file: \(reason)"
        case let .cannotMap(path, reason):
            return "\(path): cannot memory-map file: \(reason)"
        case let .folderNotFound(path):
            return "\(path): model folder not found"
        case let .noModelWeights(folder, expected):
            let names = expected.map { "'\($0)'" }.joined(separator: " or ")
            return "\(folder): no model weights found (expected \(names) in this folder)"
        case let .cannotWrite(path, reason):
            return "\(path): cannot write file: \(reason)"

        case let .fileTooShort(path, size, minimum):
            return "\(path): file has \(size) bytes, fewer than the \(minimum) a safetensors file needs "
                + "(empty or truncated file?)"
        case let .headerTooLarge(path, headerLength, limit):
            return "\(path): header length \(headerLength) bytes exceeds the limit of \(limit) bytes "
                + "(not a safetensors file?)"
        case let .headerPastEnd(path, headerLength, fileSize):
            return "\(path): header of \(headerLength) bytes runs past the end of the \(fileSize)-byte file "
                + "(truncated or not a safetensors file?)"
        case let .invalidJSON(path, offset, reason):
            return "\(path): header is not valid JSON at byte \(offset): \(reason)"
        case let .invalidHeader(path, reason):
            return "\(path): invalid safetensors header: \(reason)"
        case let .invalidEntry(path, tensor, reason):
            return "\(path): tensor '\(tensor)': invalid header entry: \(reason)"
        case let .invalidShape(path, tensor, reason):
            return "\(path): tensor '\(tensor)': invalid shape: \(reason)"

        case let .offsetsReversed(path, tensor, begin, end):
            return "\(path): tensor '\(tensor)' has data_offsets [\(begin), \(end)] with begin after end"
        case let .dataPastEnd(path, tensor, end, dataSize):
            return "\(path): tensor '\(tensor)' data ends at byte \(end) but the file's data section has "
                + "\(dataSize) bytes (truncated file?)"
        case let .sizeMismatch(path, tensor, dtype, shape, expectedBytes, foundBytes):
            return "\(path): tensor '\(tensor)' (\(dtype), shape \(shape)) needs \(expectedBytes) bytes but "
                + "its data_offsets span \(foundBytes) bytes"
        case let .unsupportedDType(path, tensor, dtype):
            let known = DTypeName.supported.joined(separator: ", ")
            return "\(path): tensor '\(tensor)' has dtype \(dtype), which secura-dist cannot load "
                + "(supported: \(known))"
        case let .tensorNotFound(path, tensor):
            return "\(path): no tensor named '\(tensor)'"

        case let .invalidIndex(path, reason):
            return "\(path): invalid index file: \(reason)"
        case let .missingShard(index, shard, tensor):
            return "\(index): shard '\(shard)' (holding tensor '\(tensor)') does not exist"
        case let .tensorNotInShard(index, shard, tensor):
            return "\(index): tensor '\(tensor)' is assigned to shard '\(shard)', which does not contain it"

        case let .invalidTensorToWrite(path, tensor, reason):
            return "\(path): cannot write tensor '\(tensor)': \(reason)"
        }
    }
}
