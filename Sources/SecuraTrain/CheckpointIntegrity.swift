// Checksums in checkpoint and adapter folders (format state-3): every safetensors file of a state folder
// (state.safetensors and SECURA-M1's masters-rank*.safetensors) carries in its metadata one
// TensorChecksum per tensor, computed from the bytes as they are written and verified on every load, so
// a file damaged after it was written is refused with the file and tensor named instead of resuming
// from wrong values. Folders of state-1 and state-2 have no sums and load unchecked.
import SecuraIO

extension RunState {
    /// Formats whose safetensors files must carry a checksum for every tensor.
    public static let checksummedFormats = ["secura-dist/state-3"]

    /// True when this folder's files must carry checksums.
    public var hasChecksums: Bool { RunState.checksummedFormats.contains(format) }
}

enum CheckpointIntegrity {
    /// Records the sum of `bytes` for tensor `name` in the metadata of the file `writer` will write.
    static func stamp(_ writer: inout SafeTensorsWriter, _ name: String, _ bytes: UnsafeRawBufferPointer) {
        writer.metadata[TensorChecksum.algorithmKey] = TensorChecksum.algorithm
        writer.metadata[TensorChecksum.key(name)] = TensorChecksum.hex(TensorChecksum.of(bytes))
    }

    /// Checks every tensor of `file` against its stored sum.
    /// - Parameter required: the folder's format has sums (`RunState.hasChecksums`): a missing one fails.
    /// - Throws: `CheckpointError.corrupted` naming the file and the first tensor that fails.
    static func verify(_ file: SafeTensorsFile, required: Bool) throws {
        if let (tensor, reason) = try TensorChecksum.mismatch(in: file, required: required) {
            throw CheckpointError.corrupted(path: file.path, tensor: tensor, reason: reason)
        }
    }
}
