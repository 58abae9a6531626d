// Builds GGUF bytes by hand, field by field, so tests can make exactly the broken files the reader must
// reject, and know the byte offset of every field they corrupt.

import SecuraIO

/// A GGUF file under construction. `bytes()` lays it out; the `*Offset` results say where fields went.
struct GGUFRawFile {
    struct Tensor {
        var name: String
        var dims: [UInt64]
        var type: UInt32
        /// Relative data offset; nil = packed after the previous tensor, aligned.
        var offset: UInt64?
        var data: [UInt8]
    }

    var magic: [UInt8] = Array("GGUF".utf8)
    var version: UInt32 = 3
    var tensorCount: UInt64?
    var kvCount: UInt64?
    /// Encoded key-value pairs: key, then the type code and value bytes.
    var kvs: [(key: String, typeAndValue: [UInt8])] = []
    var tensors: [Tensor] = []
    var alignment = 32

    /// Where fields were placed by the last layout.
    struct Layout {
        var bytes: [UInt8]
        var kvStart = 24
        var tensorInfoStart = 0
        var tensorInfoOffsets: [Int] = []
        var dataStart = 0
    }

    mutating func add(_ key: String, _ typeAndValue: [UInt8]) { kvs.append((key, typeAndValue)) }

    mutating func addTensor(_ name: String, dims: [UInt64], type: GGMLType, data: [UInt8], offset: UInt64? = nil) {
        tensors.append(Tensor(name: name, dims: dims, type: type.rawValue, offset: offset, data: data))
    }

    mutating func addF32(_ name: String, dims: [UInt64], values: [Float]) {
        addTensor(name, dims: dims, type: .f32, data: values.flatMap { Self.le($0.bitPattern) })
    }

    func layout() -> Layout {
        var out = magic + Self.le(version)
        out += Self.le(tensorCount ?? UInt64(tensors.count)) + Self.le(kvCount ?? UInt64(kvs.count))
        var layout = Layout(bytes: [])
        for kv in kvs { out += Self.string(kv.key) + kv.typeAndValue }
        layout.tensorInfoStart = out.count
        var offsets: [UInt64] = []
        var next: UInt64 = 0
        for t in tensors {
            let offset = t.offset ?? next
            offsets.append(offset)
            next = Self.pad(offset + UInt64(t.data.count), alignment)
        }
        for (t, offset) in zip(tensors, offsets) {
            layout.tensorInfoOffsets.append(out.count)
            out += Self.string(t.name) + Self.le(UInt32(t.dims.count)) + t.dims.flatMap { Self.le($0) }
            out += Self.le(t.type) + Self.le(offset)
        }
        out += [UInt8](repeating: 0, count: Int(Self.pad(UInt64(out.count), alignment)) - out.count)
        layout.dataStart = out.count
        for (t, offset) in zip(tensors, offsets) {
            let at = layout.dataStart + Int(offset)
            if out.count < at { out += [UInt8](repeating: 0, count: at - out.count) }
            out += t.data
        }
        layout.bytes = out
        return layout
    }

    func bytes() -> [UInt8] { layout().bytes }

    // MARK: Encoders

    static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] {
        withUnsafeBytes(of: v.littleEndian) { Array($0) }
    }

    static func pad(_ x: UInt64, _ a: Int) -> UInt64 { (x + UInt64(a) - 1) / UInt64(a) * UInt64(a) }

    static func string(_ s: String) -> [UInt8] { le(UInt64(s.utf8.count)) + Array(s.utf8) }

    static func type(_ t: GGUFValueType) -> [UInt8] { le(t.rawValue) }

    static func u32(_ v: UInt32) -> [UInt8] { type(.uint32) + le(v) }
    static func i32(_ v: Int32) -> [UInt8] { type(.int32) + le(v) }
    static func f32(_ v: Float) -> [UInt8] { type(.float32) + le(v.bitPattern) }
    static func str(_ s: String) -> [UInt8] { type(.string) + string(s) }
    static func bool(_ b: UInt8) -> [UInt8] { type(.bool) + [b] }
    /// An array of INT32 values.
    static func i32Array(_ values: [Int32]) -> [UInt8] {
        type(.array) + type(.int32) + le(UInt64(values.count)) + values.flatMap { le($0) }
    }

    /// A minimal valid file: one key and one 4-element F32 tensor.
    static func valid() -> GGUFRawFile {
        var f = GGUFRawFile()
        f.add("general.architecture", str("llama"))
        f.addF32("w", dims: [4], values: [1, 2, 3, 4])
        return f
    }
}
