// Why `make-model` refused or failed, with the numbers a user needs to fix it.

/// Errors of writing a shape-faithful model folder.
public enum ShapedModelError: Error, CustomStringConvertible, Equatable {
    case unknownShape(name: String, known: [String])
    case outputNotEmpty(path: String)
    case notAFolder(path: String)
    case insufficientSpace(path: String, needed: Int, available: Int)
    case invalidOption(String)
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownShape(name, known):
            return "unknown model shape '\(name)' (known: \(known.joined(separator: ", ")))"
        case let .outputNotEmpty(path):
            return "\(path): the output folder exists and is not empty (pass --force to write into it)"
        case let .notAFolder(path):
            return "\(path): exists and is not a folder"
        case let .insufficientSpace(path, needed, available):
            return "\(path): not enough free disk space: the model needs \(Self.gigabytes(needed)), "
                + "\(Self.gigabytes(available)) available"
        case let .invalidOption(message):
            return message
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
