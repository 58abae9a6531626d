// Typed access to GGUF metadata. Each accessor returns nil when the key is absent and throws when the
// key is present with another type, so "optional" and "malformed" stay distinguishable. Integer
// accessors accept any integer width (writers differ: UINT32 vs INT32 vs UINT64 for the same key).

extension GGUFFile {
    /// The raw value of `key`, or nil.
    public func value(_ key: String) -> GGUFValue? { metadata[key] }

    /// A string value.
    /// - Throws: `GGUFError.wrongValueType` when `key` holds something else.
    public func string(_ key: String) throws -> String? {
        try typed(key, "a STRING") { $0.stringValue }
    }

    /// An integer value of any width, as `Int`.
    /// - Throws: `GGUFError.wrongValueType` for non-integers (and UINT64 values above `Int.max`).
    public func int(_ key: String) throws -> Int? {
        try typed(key, "an integer") { $0.intValue }
    }

    /// A float (FLOAT32 widened exactly) or integer value, as `Double`.
    /// - Throws: `GGUFError.wrongValueType` for strings, bools and arrays.
    public func double(_ key: String) throws -> Double? {
        try typed(key, "a number") { $0.doubleValue }
    }

    /// A bool value.
    /// - Throws: `GGUFError.wrongValueType`.
    public func bool(_ key: String) throws -> Bool? {
        try typed(key, "a BOOL") { $0.boolValue }
    }

    /// An array of strings (e.g. `tokenizer.ggml.tokens`, `tokenizer.ggml.merges`).
    /// - Throws: `GGUFError.wrongValueType`.
    public func stringArray(_ key: String) throws -> [String]? {
        try typed(key, "an ARRAY of STRING") { v in
            guard case let .array(type, values) = v, type == .string else { return nil }
            return values.map { $0.stringValue! }
        }
    }

    /// An array of integers of any width (e.g. `tokenizer.ggml.token_type`).
    /// - Throws: `GGUFError.wrongValueType`.
    public func intArray(_ key: String) throws -> [Int]? {
        try typed(key, "an ARRAY of integers") { v in
            guard case let .array(_, values) = v else { return nil }
            var out: [Int] = []
            out.reserveCapacity(values.count)
            for value in values {
                guard let i = value.intValue else { return nil }
                out.append(i)
            }
            return out
        }
    }

    /// An array of numbers (e.g. `tokenizer.ggml.scores`), as `Double`.
    /// - Throws: `GGUFError.wrongValueType`.
    public func doubleArray(_ key: String) throws -> [Double]? {
        try typed(key, "an ARRAY of numbers") { v in
            guard case let .array(_, values) = v else { return nil }
            var out: [Double] = []
            out.reserveCapacity(values.count)
            for value in values {
                guard let d = value.doubleValue else { return nil }
                out.append(d)
            }
            return out
        }
    }

    private func typed<T>(_ key: String, _ expected: String, _ convert: (GGUFValue) -> T?) throws -> T? {
        guard let value = metadata[key] else { return nil }
        guard let result = convert(value) else {
            throw GGUFError.wrongValueType(path: path, key: key, expected: expected, found: value.typeDescription)
        }
        return result
    }
}
