// Dequantising a GGUF model once per node instead of once per rank (docs/DESIGN.md §2.5: dequantised GGUF
// weights live in node-shared memory). The caller supplies the node-shared allocation and the node
// barrier (SecuraModel does not know about communicators); the ranks of a node split the tensors
// between them, each dequantising its share straight into the shared block.
import SecuraIO
import SecuraTensor

extension GGUFModel {
    /// Dequantises every quantised tensor with a Hugging Face name into one block from `allocate`,
    /// shared by the `parts` ranks of a node; this rank (`part`) converts tensors i with i % parts == part
    /// (in sorted-name order), then `barrier()` runs, after which every view reads the shared block.
    /// Plain F32/F16/BF16 tensors stay memory-mapped. Collective over the node: every rank calls it with
    /// the same `parts` and its own `part`. Does nothing for tensors already cached.
    ///
    /// - Parameters:
    ///   - allocate: returns `count` fp32 elements that every rank of the node sees (the same memory on
    ///     each), and an object that keeps the memory alive.
    ///   - barrier: a node barrier (writes before it are visible to every rank of the node after it).
    /// - Returns: the number of fp32 elements in the shared block.
    /// - Throws: `ModelError` / `GGUFError` naming the tensor that could not be dequantised, and whatever
    ///   `allocate` / `barrier` throw.
    @discardableResult
    public func loadAllShared(part: Int, of parts: Int,
                              allocate: (Int) throws -> (UnsafeMutablePointer<Float>?, AnyObject),
                              barrier: () throws -> Void) throws -> Int {
        precondition(parts >= 1 && (0..<parts).contains(part), "bad node part \(part) of \(parts)")
        let quantised = ggufNames.keys.sorted().compactMap { name -> (String, GGUFTensorInfo)? in
            guard let info = file.tensor(ggufNames[name]!), info.type.plainDType == nil, !isCached(name) else { return nil }
            return (name, info)
        }
        let total = quantised.reduce(0) { $0 + $1.1.elementCount }
        let (base, owner) = try allocate(total)
        var offset = 0
        var views: [(String, WeightView)] = []
        for (i, (name, info)) in quantised.enumerated() {
            let destination = base! + offset
            if i % parts == part {
                if let heads = permutedHeads(info.name) {
                    let scratch = FloatBuffer(count: info.elementCount)
                    try file.dequantize(info.name, into: scratch.pointer)
                    try unpermute(info, heads: heads, from: UnsafeRawPointer(scratch.pointer), dtype: .f32,
                                  into: UnsafeMutableRawPointer(destination))
                } else {
                    try file.dequantize(info.name, into: destination)
                }
            }
            views.append((name, WeightView(name: name, dtype: .f32, shape: info.shape, data: UnsafeRawPointer(destination),
                                           owner: owner)))
            offset += info.elementCount
        }
        try barrier()
        for (name, view) in views { setCached(name, view) }
        return total
    }
}
