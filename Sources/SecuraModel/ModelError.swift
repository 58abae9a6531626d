// Errors of model loading and validation, each naming the file or tensor and what was expected.

public enum ModelError: Error, CustomStringConvertible {
    case missingFile(path: String, what: String)
    case unreadableConfig(path: String, reason: String)
    case unsupportedArchitecture(path: String, found: String, supported: [String])
    case invalidConfig(path: String, key: String, reason: String)
    case missingTensor(name: String, source: String)
    case shapeMismatch(name: String, source: String, expected: [Int], found: [Int])
    case invalidInput(String)

    public var description: String {
        switch self {
        case let .missingFile(path, what):
            return "\(path): file not found (expected the \(what))"
        case let .unreadableConfig(path, reason):
            return "\(path): cannot read the model configuration: \(reason)"
        case let .unsupportedArchitecture(path, found, supported):
            return "\(path): unknown model_type '\(found)'; supported: \(supported.joined(separator: ", "))"
        case let .invalidConfig(path, key, reason):
            return "\(path): '\(key)' \(reason)"
        case let .missingTensor(name, source):
            return "\(source): tensor '\(name)' is missing"
        case let .shapeMismatch(name, source, expected, found):
            return "\(source): tensor '\(name)' has shape \(found), expected \(expected)"
        case let .invalidInput(message):
            return message
        }
    }
}
