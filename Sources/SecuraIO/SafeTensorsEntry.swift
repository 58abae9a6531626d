// What a safetensors header says about one tensor, after validation, plus simple counts over many
// tensors (for `inspect` and parameter reports).

import SecuraTensor

/// One tensor's validated header record.
///
/// Every number here has been checked against the file: the shape's element count does not overflow,
/// the byte range lies inside the data section, and (for every dtype the format defines) its length is
/// element count × element size.
public struct SafeTensorsEntry: Sendable, Equatable {
    /// The tensor's name, e.g. "model.layers.0.self_attn.q_proj.weight".
    public let name: String
    /// The dtype string as written in the file ("F32", "BF16", "I64", ...), kept even when unsupported.
    public let dtypeName: String
    /// Row-major shape, outermost first; `[]` is a scalar.
    public let shape: [Int]
    /// Number of elements (product of `shape`; 1 for a scalar).
    public let elementCount: Int
    /// Byte range relative to the start of the data section (the header's `data_offsets`).
    public let dataOffsets: Range<Int>
    /// Byte range within the whole file.
    public let fileRange: Range<Int>

    /// The compute-side dtype, or nil when secura-dist cannot load this dtype.
    public var dtype: DType? { DType(rawValue: dtypeName) }
    /// Number of data bytes.
    public var byteCount: Int { dataOffsets.count }
}

/// Tensor, element and byte counts over a set of tensors.
public struct TensorCounts: Sendable, Equatable {
    /// Number of tensors.
    public var tensors: Int = 0
    /// Total elements (parameters).
    public var parameters: Int = 0
    /// Total data bytes.
    public var bytes: Int = 0

    public init(tensors: Int = 0, parameters: Int = 0, bytes: Int = 0) {
        self.tensors = tensors
        self.parameters = parameters
        self.bytes = bytes
    }

    /// Totals over `entries`.
    public init<S: Sequence>(_ entries: S) where S.Element == SafeTensorsEntry {
        for entry in entries { add(entry) }
    }

    /// Totals over `entries` grouped by dtype string.
    public static func byDType<S: Sequence>(_ entries: S) -> [String: TensorCounts]
    where S.Element == SafeTensorsEntry {
        var result: [String: TensorCounts] = [:]
        for entry in entries { result[entry.dtypeName, default: TensorCounts()].add(entry) }
        return result
    }

    private mutating func add(_ entry: SafeTensorsEntry) {
        tensors += 1
        parameters += entry.elementCount
        bytes += entry.byteCount
    }
}
