// Why `make-model` refused or failed, with the numbers a user needs to fix it.
import SecuraErrors

/// Errors of writing a shape-faithful model folder.
public enum ShapedModelError: CategorizedError, CustomStringConvertible, Equatable {
    case unknownShape(name: String, known: [String])
    case outputNotEmpty(path: String)
    case notAFolder(path: String)
    case insufficientSpace(path: String, needed: Int, available: Int)
    /// The shard size (in bytes) is not positive.
    case nonPositiveShardSize(bytes: Int)
    case cannotWrite(path: String, reason: String)

    /// The overwrite setting, named in the message so the command line can show its flag.
    public static let force = Setting("the overwrite setting", key: "force")
    public static let shardSize = Setting("the shard size", key: "shard_size")

    /// A request the writer refuses is usage; the disk or file system failing it is I/O.
    public var category: ErrorCategory {
        switch self {
        case .unknownShape, .outputNotEmpty, .notAFolder, .nonPositiveShardSize: return .usage
        case .insufficientSpace, .cannotWrite: return .io
        }
    }

    public var description: String {
        switch self {
        case let .unknownShape(name, known):
            return "unknown model shape '\(name)' (known: \(known.joined(separator: ", ")))"
        case let .outputNotEmpty(path):
            return "\(path): the output folder exists and is not empty (writing into it needs \(Self.force))"
        case let .notAFolder(path):
            return "\(path): exists and is not a folder"
        case let .insufficientSpace(path, needed, available):
            return "\(path): not enough free disk space: the model needs \(Self.gigabytes(needed)), "
                + "\(Self.gigabytes(available)) available"
        case let .nonPositiveShardSize(bytes):
            return "\(Self.shardSize) must be positive, found \(bytes) bytes"
        case let .cannotWrite(path, reason):
            return "\(path): cannot write: \(reason)"
        }
    }

    /// Bytes as decimal gigabytes with two decimals ("16.06 GB").
    public static func gigabytes(_ bytes: Int) -> String {
        let hundredths = (bytes + 5_000_000) / 10_000_000
        let fraction = hundredths % 100
        return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction) GB"
    }
}
