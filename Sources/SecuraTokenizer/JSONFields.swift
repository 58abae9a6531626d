// Typed access to parsed JSON (Foundation's JSONSerialization output) that turns every missing or
// mistyped field into a TokenizerError naming the file and the field's path, e.g. "model.vocab".

import Foundation
import SecuraIO

/// Reads fields of one JSON document, reporting problems against `source`.
struct JSONFields {
    let source: String

    /// Parses `data` as a JSON object.
    func parseObject(_ data: Data) throws -> [String: Any] {
        let value: Any
        do {
            value = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            // Foundation's own message is "The operation could not be completed"; say where and what.
            let detail = data.withUnsafeBytes(JSONParser.diagnose).map { "\($0)" }
                ?? ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? "\(error)"
            throw TokenizerError.invalidJSON(source: source, reason: detail)
        }
        guard let object = value as? [String: Any] else {
            throw TokenizerError.invalidJSON(source: source, reason: "the top level is not a JSON object")
        }
        return object
    }

    /// True when the field is absent or JSON null.
    func isNull(_ value: Any?) -> Bool {
        value == nil || value is NSNull
    }

    func object(_ value: Any?, _ field: String) throws -> [String: Any] {
        guard let value, !(value is NSNull) else { throw TokenizerError.missingField(source: source, field: field) }
        guard let object = value as? [String: Any] else { throw mistyped(field, "an object") }
        return object
    }

    func array(_ value: Any?, _ field: String) throws -> [Any] {
        guard let value, !(value is NSNull) else { throw TokenizerError.missingField(source: source, field: field) }
        guard let array = value as? [Any] else { throw mistyped(field, "an array") }
        return array
    }

    func string(_ value: Any?, _ field: String) throws -> String {
        guard let value, !(value is NSNull) else { throw TokenizerError.missingField(source: source, field: field) }
        guard let string = value as? String else { throw mistyped(field, "a string") }
        return string
    }

    func optionalString(_ value: Any?, _ field: String) throws -> String? {
        isNull(value) ? nil : try string(value, field)
    }

    func int(_ value: Any?, _ field: String) throws -> Int {
        guard let value, !(value is NSNull) else { throw TokenizerError.missingField(source: source, field: field) }
        // (JSONSerialization on Linux cannot tell true/false from 1/0, so booleans are not refused.)
        if let int = value as? Int { return int }
        if let number = value as? NSNumber, let exact = Int(exactly: number.doubleValue) { return exact }
        if let number = value as? NSNumber, number.doubleValue.rounded() == number.doubleValue {
            throw TokenizerError.invalidField(source: source, field: field, reason: "\(number) is out of range for a whole number")
        }
        throw mistyped(field, "an integer")
    }

    /// A boolean; absent or null gives `default`.
    func bool(_ value: Any?, _ field: String, default fallback: Bool) throws -> Bool {
        guard let value, !(value is NSNull) else { return fallback }
        if let bool = value as? Bool { return bool }
        if let number = value as? NSNumber, number.doubleValue == 0 || number.doubleValue == 1 {
            return number.doubleValue == 1
        }
        throw mistyped(field, "true or false")
    }

    private func mistyped(_ field: String, _ expected: String) -> TokenizerError {
        .invalidField(source: source, field: field, reason: "expected \(expected)")
    }
}
