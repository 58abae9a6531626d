// Turns a safetensors header (JSON) into validated entries. Every number is checked before it is used,
// in the spirit of llama.cpp's GGUF loader: the file is untrusted, and a bad offset must become a clear
// error here rather than a crash or garbage weights later.
//
// Header layout: { "<tensor name>": {"dtype": "BF16", "shape": [h, d], "data_offsets": [begin, end]}, ...,
//                  "__metadata__": {"<key>": "<string value>", ...} (optional) }
// with offsets relative to the data section, which starts right after the header.

/// The validated contents of a safetensors header.
struct SafeTensorsHeader {
    /// The reserved key holding free-form string metadata.
    static let metadataKey = "__metadata__"

    /// Entries by tensor name.
    let entries: [String: SafeTensorsEntry]
    /// The optional `__metadata__` map (empty when absent).
    let metadata: [String: String]

    /// Parses and validates a header.
    ///
    /// - Parameters:
    ///   - json: the header's JSON bytes.
    ///   - path: the file, for error messages.
    ///   - dataStart: file offset of the data section (8 + header length).
    ///   - dataSize: length of the data section in bytes.
    /// - Throws: `IOError.invalidJSON`, `.invalidHeader`, `.invalidEntry`, `.invalidShape`,
    ///   `.offsetsReversed`, `.dataPastEnd` or `.sizeMismatch`.
    static func parse(json: UnsafeRawBufferPointer, path: String, dataStart: Int, dataSize: Int) throws
        -> SafeTensorsHeader {
        let root: JSONValue
        do {
            root = try JSONParser.parse(json)
        } catch let error as JSONParseError {
            // Report the offset within the file: the JSON starts after the 8-byte length prefix.
            throw IOError.invalidJSON(path: path, offset: error.offset + 8, reason: error.reason)
        }
        guard case let .object(object) = root else {
            throw IOError.invalidHeader(path: path, reason: "expected a JSON object, found \(root.kind)")
        }

        var entries: [String: SafeTensorsEntry] = [:]
        var metadata: [String: String] = [:]
        for key in object.keys {
            guard let value = object[key] else { continue }
            if key == metadataKey {
                metadata = try parseMetadata(value, path: path)
            } else {
                entries[key] = try parseEntry(name: key, value: value, path: path,
                                              dataStart: dataStart, dataSize: dataSize)
            }
        }
        return SafeTensorsHeader(entries: entries, metadata: metadata)
    }

    private static func parseMetadata(_ value: JSONValue, path: String) throws -> [String: String] {
        guard case let .object(object) = value else {
            throw IOError.invalidHeader(path: path, reason: "\(metadataKey) must be an object, found \(value.kind)")
        }
        var result: [String: String] = [:]
        for key in object.keys {
            guard case let .string(text)? = object[key] else {
                let kind = object[key]?.kind ?? "nothing"
                throw IOError.invalidHeader(path: path,
                                            reason: "\(metadataKey) value for '\(key)' must be a string, found \(kind)")
            }
            result[key] = text
        }
        return result
    }

    private static func parseEntry(name: String, value: JSONValue, path: String,
                                   dataStart: Int, dataSize: Int) throws -> SafeTensorsEntry {
        func invalid(_ reason: String) -> IOError { .invalidEntry(path: path, tensor: name, reason: reason) }

        guard case let .object(fields) = value else { throw invalid("expected an object, found \(value.kind)") }

        guard let dtypeValue = fields["dtype"] else { throw invalid("missing \"dtype\"") }
        guard case let .string(dtypeName) = dtypeValue else {
            throw invalid("\"dtype\" must be a string, found \(dtypeValue.compactText)")
        }

        guard let shapeValue = fields["shape"] else { throw invalid("missing \"shape\"") }
        let (shape, elementCount) = try parseShape(shapeValue, name: name, path: path)

        guard let offsetsValue = fields["data_offsets"] else { throw invalid("missing \"data_offsets\"") }
        guard case let .array(offsets) = offsetsValue, offsets.count == 2,
              case let .integer(begin) = offsets[0], case let .integer(end) = offsets[1],
              begin >= 0, end >= 0
        else {
            throw invalid("\"data_offsets\" must be two non-negative integers [begin, end], "
                + "found \(offsetsValue.compactText)")
        }
        guard begin <= end else {
            throw IOError.offsetsReversed(path: path, tensor: name, begin: begin, end: end)
        }
        guard end <= dataSize else {
            throw IOError.dataPastEnd(path: path, tensor: name, end: end, dataSize: dataSize)
        }

        // Unknown dtype strings cannot be size-checked; they fail later, when the tensor is requested.
        if let bits = DTypeName.bitsPerElement(dtypeName) {
            let (totalBits, overflow) = elementCount.multipliedReportingOverflow(by: bits)
            guard !overflow else {
                throw IOError.invalidShape(path: path, tensor: name,
                                           reason: "\(shape) of \(dtypeName) is too large to address")
            }
            let expected = totalBits / 8 + (totalBits % 8 == 0 ? 0 : 1)
            guard totalBits % 8 == 0, expected == end - begin else {
                throw IOError.sizeMismatch(path: path, tensor: name, dtype: dtypeName, shape: shape,
                                           expectedBytes: expected, foundBytes: end - begin)
            }
        }

        return SafeTensorsEntry(name: name, dtypeName: dtypeName, shape: shape, elementCount: elementCount,
                                dataOffsets: begin..<end, fileRange: (dataStart + begin)..<(dataStart + end))
    }

    /// Validates a shape: an array of non-negative integers whose product fits in `Int`.
    private static func parseShape(_ value: JSONValue, name: String, path: String) throws -> ([Int], Int) {
        func invalid(_ reason: String) -> IOError { .invalidShape(path: path, tensor: name, reason: reason) }

        guard case let .array(dims) = value else {
            throw invalid("\"shape\" must be an array of integers, found \(value.compactText)")
        }
        var shape: [Int] = []
        shape.reserveCapacity(dims.count)
        var count = 1
        for (axis, dim) in dims.enumerated() {
            guard case let .integer(size) = dim else {
                throw invalid("\(value.compactText): dimension \(axis) (\(dim.compactText)) is not an integer "
                    + "between 0 and \(Int.max)")
            }
            guard size >= 0 else {
                throw invalid("\(value.compactText): dimension \(axis) is negative")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: size)
            guard !overflow else {
                throw invalid("\(value.compactText): element count overflows a 64-bit integer")
            }
            count = product
            shape.append(size)
        }
        return (shape, count)
    }
}
