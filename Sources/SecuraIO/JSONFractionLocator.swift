// Foundation's JSONDecoder rejects a fraction for a whole-number key (`"hidden_size": 3.5`) with
// `dataCorrupted` and an empty coding path, so its message cannot say which key. This finds it.
import Foundation

/// Finds the member whose fraction a `Decodable` type refused, by decoding again with one fraction at a
/// time replaced by a whole number: the first replacement that makes the refusal go away names the key.
public enum JSONFractionLocator {
    /// A fraction the decoder refused: its key path (`rope_scaling.factor`, `layers[2]`) and its text.
    public struct Finding: Equatable, CustomStringConvertible {
        public let key: String
        public let value: String
        public var description: String { "key '\(key)': \(value) is not a whole number, and this key takes one" }
    }

    /// The fraction in `data` that `type` refused, or nil when `type` does not refuse the data that way,
    /// the data is not a JSON object, or no single fraction explains the refusal. At most `limit` fractions are tried.
    public static func locate<T: Decodable>(_ type: T.Type, in data: Data, limit: Int = 256) -> Finding? {
        guard refusesFraction(type, data),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        var found: [(path: [PathStep], number: Double)] = []
        collectFractions(root, path: [], into: &found, limit: limit)
        for (path, number) in found {
            let whole = NSNumber(value: Int(number.rounded(.towardZero)))
            guard let patched = replacing(root, at: path[...], with: whole) as? [String: Any],
                  let bytes = try? JSONSerialization.data(withJSONObject: patched) else { continue }
            if !refusesFraction(type, bytes) {
                return Finding(key: describe(path), value: "\(number)")
            }
        }
        return nil
    }

    /// Why `type` refused `data` with Foundation's placeless `dataCorrupted`: a syntax error or an
    /// out-of-range number with its position (`JSONParser.diagnose`), else a fraction for a whole-number
    /// key (`locate`); nil when neither explains it.
    public static func placedProblem<T: Decodable>(_ type: T.Type, in data: Data) -> CustomStringConvertible? {
        if let problem = data.withUnsafeBytes(JSONParser.diagnose) { return problem }
        return locate(type, in: data)
    }

    private enum PathStep { case key(String), index(Int) }

    private static func describe(_ path: [PathStep]) -> String {
        var text = ""
        for step in path {
            switch step {
            case .key(let k): text += text.isEmpty ? k : ".\(k)"
            case .index(let i): text += "[\(i)]"
            }
        }
        return text
    }

    /// Whether decoding fails the way a refused fraction does: `dataCorrupted` with no coding path.
    private static func refusesFraction<T: Decodable>(_ type: T.Type, _ bytes: Data) -> Bool {
        do {
            _ = try JSONDecoder().decode(type, from: bytes)
            return false
        } catch DecodingError.dataCorrupted(let context) {
            return context.codingPath.isEmpty
        } catch {
            return false
        }
    }

    private static func collectFractions(_ value: Any, path: [PathStep], into found: inout [(path: [PathStep], number: Double)], limit: Int) {
        guard found.count < limit else { return }
        if let object = value as? [String: Any] {
            for key in object.keys.sorted() {
                collectFractions(object[key]!, path: path + [.key(key)], into: &found, limit: limit)
            }
        } else if let array = value as? [Any] {
            for (i, element) in array.enumerated() {
                collectFractions(element, path: path + [.index(i)], into: &found, limit: limit)
            }
        } else if let number = value as? NSNumber, !(value is String) {
            let d = number.doubleValue
            // Only fractions a whole number can stand in for (Int's range); booleans are 0 and 1.
            if d.isFinite, d != d.rounded(), abs(d) < 9.0e18 { found.append((path, d)) }
        }
    }

    private static func replacing(_ value: Any, at path: ArraySlice<PathStep>, with replacement: Any) -> Any? {
        guard let step = path.first else { return replacement }
        switch step {
        case .key(let key):
            guard var object = value as? [String: Any], let child = object[key],
                  let new = replacing(child, at: path.dropFirst(), with: replacement) else { return nil }
            object[key] = new
            return object
        case .index(let i):
            guard var array = value as? [Any], array.indices.contains(i),
                  let new = replacing(array[i], at: path.dropFirst(), with: replacement) else { return nil }
            array[i] = new
            return array
        }
    }
}
