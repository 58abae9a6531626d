// The shard index of a sharded Hugging Face checkpoint, `model.safetensors.index.json`:
//   {"metadata": {"total_size": ...}, "weight_map": {"<tensor name>": "<shard file name>", ...}}
// Only `weight_map` matters for loading; it is validated strictly because it decides which files open.

/// A parsed, validated shard index.
struct SafeTensorsIndex {
    /// The index file's path.
    let path: String
    /// Tensor name → shard file name (a plain file name inside the model folder).
    let weightMap: [String: String]
    /// The distinct shard file names, sorted.
    let shards: [String]

    /// Reads and validates the index at `path`.
    ///
    /// - Throws: the `MappedFile` errors, or `IOError.invalidIndex` for malformed JSON, a missing or
    ///   empty `weight_map`, non-string shard names, or shard names that are not plain file names.
    init(path: String) throws {
        self.path = path
        let file = try MappedFile(path: path)
        let root: JSONValue
        do {
            root = try JSONParser.parse(file.bytes)
        } catch let error as JSONParseError {
            throw IOError.invalidIndex(path: path,
                                       reason: "not valid JSON at byte \(error.offset): \(error.reason)")
        }
        guard case let .object(object) = root else {
            throw IOError.invalidIndex(path: path, reason: "expected a JSON object, found \(root.kind)")
        }
        guard let mapValue = object["weight_map"] else {
            throw IOError.invalidIndex(path: path, reason: "missing \"weight_map\"")
        }
        guard case let .object(map) = mapValue else {
            throw IOError.invalidIndex(path: path, reason: "\"weight_map\" must be an object, found \(mapValue.kind)")
        }
        guard map.count > 0 else {
            throw IOError.invalidIndex(path: path, reason: "\"weight_map\" lists no tensors")
        }

        var weightMap: [String: String] = [:]
        for tensor in map.keys {
            guard case let .string(shard)? = map[tensor] else {
                throw IOError.invalidIndex(path: path, reason: "shard for tensor '\(tensor)' must be a string, "
                    + "found \(map[tensor]?.compactText ?? "nothing")")
            }
            guard Self.isPlainFileName(shard) else {
                throw IOError.invalidIndex(path: path, reason: "shard '\(shard)' for tensor '\(tensor)' must be "
                    + "a file name inside the model folder")
            }
            weightMap[tensor] = shard
        }
        self.weightMap = weightMap
        shards = Set(weightMap.values).sorted()
    }

    /// True for names that stay inside the folder: no separators, not "." or "..", no NUL.
    private static func isPlainFileName(_ name: String) -> Bool {
        !name.isEmpty && name != "." && name != ".." && !name.contains("/") && !name.contains("\0")
    }
}
