// Opening a model for a multi-rank job: a GGUF file's quantised tensors are dequantised once per node
// into node-shared memory (each rank of the node converts a share of the tensors), instead of once
// per rank. Safetensors weights are memory-mapped and already shared through the page cache.
import Foundation
import SecuraDistributed
import SecuraModel

/// Opens `path` and, for a GGUF file, dequantises its quantised tensors into node-shared memory.
/// Collective over the node.
func openModel(_ path: String, comm: Communicator, say: RootPrinter) throws -> LoadedModel {
    try shareDequantised(ModelLoader.open(path), comm: comm, say: say)
}

/// Dequantises an opened GGUF model's quantised tensors into node-shared memory (nothing for safetensors).
/// Collective over the node.
func shareDequantised(_ loaded: LoadedModel, comm: Communicator, say: RootPrinter) throws -> LoadedModel {
    if let gguf = loaded.source as? GGUFModel {
        let start = Date()
        let floats = try gguf.loadAllShared(part: comm.localRank, of: comm.localSize, allocate: { count in
            let block = try comm.allocateNodeShared(count: count)
            return (block.buffer.baseAddress, block)
        }, barrier: { try comm.nodeBarrier() })
        if floats > 0 {
            say(String(format: "dequantised %.0f MiB of weights in %.1f s", Double(floats) * 4 / 1_048_576,
                       Date().timeIntervalSince(start))
                + (comm.localSize > 1 ? ", once per node (shared by its \(comm.localSize) ranks)" : ""))
        }
    }
    return loaded
}
