// What kind of failure an error is, so the command line can pick an exit status without knowing every
// module's error enum. Every library error enum conforms to `CategorizedError`; errors from Foundation
// and the C library (file system, POSIX) are classified here too. The exit statuses follow BSD
// sysexits(3), which batch schedulers and shell scripts already know: 64 usage, 65 data, 70 software,
// 74 I/O, 75 temporary failure.
import Foundation

/// The kind of a failure, from the user's point of view: what they must change to succeed.
public enum ErrorCategory: String, Codable, Sendable, CaseIterable {
    /// The request is wrong: a bad flag or value, or settings that cannot run together (exit 64).
    case usage
    /// An input file is malformed or inconsistent: a model, data, tokenizer or configuration file (65).
    case data
    /// The file system failed the request: a missing file, no permission, a full disk (74).
    case io
    /// The job's transport failed or timed out; retrying (requeueing) the job may succeed (75).
    case unavailable
    /// A bug: an invariant of secura-dist does not hold (70).
    case `internal`

    /// The process exit status for this category (sysexits.h: EX_USAGE, EX_DATAERR, EX_IOERR,
    /// EX_TEMPFAIL, EX_SOFTWARE).
    public var exitCode: Int32 {
        switch self {
        case .usage: return 64
        case .data: return 65
        case .io: return 74
        case .unavailable: return 75
        case .internal: return 70
        }
    }

    /// The category of any error: its own for a `CategorizedError`, `io` for file-system and POSIX
    /// errors, `data` for decoding errors, and `internal` for anything else (an error nobody classified
    /// is a gap in secura-dist, not the user's fault).
    public init(of error: Error) {
        if let categorized = error as? CategorizedError {
            self = categorized.category
        } else if error is DecodingError {
            self = .data
        } else if error is EncodingError {
            self = .internal
        } else if let cocoa = error as? CocoaError {
            self = Self.category(ofCocoa: cocoa.code)
        } else if error is POSIXError {
            self = .io
        } else {
            let ns = error as NSError
            switch ns.domain {
            case NSCocoaErrorDomain: self = Self.category(ofCocoa: CocoaError.Code(rawValue: ns.code))
            case NSPOSIXErrorDomain: self = .io
            default: self = .internal
            }
        }
    }

    /// Foundation's file errors (codes below 1024) are I/O; its property-list, JSON and decoder reading
    /// errors are data; the rest (encoding errors among them) are internal.
    private static func category(ofCocoa code: CocoaError.Code) -> ErrorCategory {
        switch code.rawValue {
        case 0..<1024: return .io                   // NSFile… read and write errors
        case 3840...3851: return .data              // property list / JSON reading
        case 4864...4865: return .data              // NSCoder reading (coderReadCorrupt, coderValueNotFound)
        default: return .internal
        }
    }
}

/// An error that knows its category. Every error enum of secura-dist's libraries conforms.
public protocol CategorizedError: Error {
    var category: ErrorCategory { get }
}

/// A setting of a run as library messages name it: in words, followed by its key in configuration
/// files ("the micro-batch size (micro_batch)"). Libraries know settings, not flags; the command line
/// rewrites "(key)" to its flag's name where it reports (see the executable's flag table).
public struct Setting: Sendable, Hashable, CustomStringConvertible {
    /// The key, as in PEFT / Hugging Face JSON where one exists (`r`, `lora_alpha`), else snake_case.
    public let key: String
    /// The setting in words ("the LoRA rank").
    public let words: String

    public init(_ words: String, key: String) {
        self.words = words
        self.key = key
    }

    public var description: String { "\(words) (\(key))" }

    /// `message` with every "(key)" that `names` knows replaced by "(name)": how a front end shows its
    /// own names for the settings a library message mentions ("(micro_batch)" → "(--micro-batch)").
    public static func renaming(_ message: String, _ names: [String: String]) -> String {
        var text = message
        for (key, name) in names where text.contains("(\(key))") {
            text = text.replacingOccurrences(of: "(\(key))", with: "(\(name))")
        }
        return text
    }
}
