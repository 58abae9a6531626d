// Where each tensor goes in a safetensors file being written, and the header bytes that say so.
// Data is ordered by element width (widest first), then by name: with the header padded to a multiple
// of 8 bytes, every tensor then starts at a multiple of its own element size. Header keys are sorted,
// `__metadata__` first, so the same tensors always produce the same bytes.

/// The data order and header of a file to be written.
struct SafeTensorsLayout {
    /// Tensor names in the order their data is written.
    let dataOrder: [String]
    /// The header JSON, padded with spaces to a multiple of 8 bytes.
    let header: [UInt8]

    /// - Parameter tensors: name → (dtype string, shape, byte count); dtype strings must be known ones.
    init(tensors: [String: (dtype: String, shape: [Int], bytes: Int)], metadata: [String: String]) {
        dataOrder = tensors.keys.sorted { a, b in
            let wa = DTypeName.bitsPerElement(tensors[a]?.dtype ?? "") ?? 0
            let wb = DTypeName.bitsPerElement(tensors[b]?.dtype ?? "") ?? 0
            return wa != wb ? wa > wb : Self.precedes(a, b)
        }
        var offsets: [String: (Int, Int)] = [:]
        var position = 0
        for name in dataOrder {
            let size = tensors[name]?.bytes ?? 0
            offsets[name] = (position, position + size)
            position += size
        }

        var members: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted(by: Self.precedes).map {
                JSONText.quoted($0) + ":" + JSONText.quoted(metadata[$0] ?? "")
            }
            members.append(JSONText.quoted(SafeTensorsHeader.metadataKey) + ":{" + pairs.joined(separator: ",") + "}")
        }
        for name in tensors.keys.sorted(by: Self.precedes) {
            guard let tensor = tensors[name], let (begin, end) = offsets[name] else { continue }
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            members.append(JSONText.quoted(name) + ":{\"dtype\":" + JSONText.quoted(tensor.dtype)
                + ",\"shape\":[" + shape + "],\"data_offsets\":[\(begin),\(end)]}")
        }
        var header = Array(("{" + members.joined(separator: ",") + "}").utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))
        self.header = header
    }

    /// Byte-wise (UTF-8) order: the same on every platform and locale.
    static func precedes(_ a: String, _ b: String) -> Bool {
        a.utf8.lexicographicallyPrecedes(b.utf8)
    }
}
