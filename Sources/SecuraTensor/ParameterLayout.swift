// One flat fp32 buffer holding many named tensors (parameters, their gradients, optimizer moments),
// as llm.c keeps them: zeroing is one fill, an optimizer step one loop, an all-reduce one call.

/// The placement of named tensors in a flat buffer, in a fixed order.
public struct ParameterLayout: Sendable, Equatable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
    }

    public private(set) var entries: [Entry] = []
    private var index: [String: Int] = [:]
    /// Total elements.
    public private(set) var count = 0

    public init() {}

    /// Appends a tensor; names must be unique.
    public mutating func append(_ name: String, shape: [Int]) {
        precondition(index[name] == nil, "duplicate parameter \(name)")
        index[name] = entries.count
        entries.append(Entry(name: name, shape: shape, offset: count))
        count += shape.reduce(1, *)
    }

    /// The entry named `name`, or nil.
    public func entry(_ name: String) -> Entry? {
        index[name].map { entries[$0] }
    }
}

/// A flat buffer laid out by a ParameterLayout.
public final class ParameterBuffer: @unchecked Sendable {
    public let layout: ParameterLayout
    public let storage: FloatBuffer

    /// A zeroed buffer for `layout`.
    public init(layout: ParameterLayout) {
        self.layout = layout
        storage = FloatBuffer(count: layout.count)
    }

    /// The first element of tensor `name`, or nil when the layout lacks it.
    public func pointer(_ name: String) -> UnsafeMutablePointer<Float>? {
        layout.entry(name).map { storage.pointer + $0.offset }
    }

    /// A copy of tensor `name`'s values.
    public func values(_ name: String) -> [Float]? {
        guard let e = layout.entry(name) else { return nil }
        return Array(UnsafeBufferPointer(start: storage.pointer + e.offset, count: e.count))
    }

    /// Zeroes every tensor.
    public func zero() { storage.zero() }
}
