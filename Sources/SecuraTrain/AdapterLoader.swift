// Opens a trained adapter on a model: our own state folders (state.json + state.safetensors, from
// train's OUTPUT/adapter or any checkpoint) and Hugging Face PEFT LoRA/DoRA folders.
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraModel

public enum AdapterLoader {
    /// The adapter at `path` attached to a model of `config` whose original tensors come from `base`.
    /// CABR's C and R are re-selected from the original weights (they are a deterministic function of
    /// them); every trained value, merged weight and long-term copy comes from the folder.
    public static func open(_ path: String, config: DecoderConfig, base: WeightSource) throws -> AdapterSet {
        let folder = URL(fileURLWithPath: path)
        let fm = FileManager.default
        if fm.fileExists(atPath: folder.appendingPathComponent("state.json").path) {
            let state = try Checkpoint.readState(folder)
            var settings = state.method
            settings.cabrInit = .slice   // A is overwritten from the file: skip the SVD
            let adapters = try AdapterSet(config: config, base: base, settings: settings, seed: 0, solver: UnusedSVD())
            guard adapters.parameters.count == state.trainableParameters else {
                throw CheckpointError.incompatible(path: path, reason: "it holds \(state.trainableParameters) trainable values; on this model the method has \(adapters.parameters.count) (a different model?)")
            }
            try Checkpoint.restore(folder, into: adapters, optimizer: nil)
            return adapters
        }
        if fm.fileExists(atPath: folder.appendingPathComponent(PEFTFormat.configFile).path) {
            let settings = try PEFTFormat.settings(PEFTFormat.readConfig(folder), path: path)
            let adapters = try AdapterSet(config: config, base: base, settings: settings, seed: 0, solver: UnusedSVD())
            try PEFTFormat.load(folder, into: adapters)
            return adapters
        }
        throw CheckpointError.missing(path: path)
    }
}

/// The SVD is never needed when A comes from a file.
struct UnusedSVD: SVDSolver {
    func svd(rows: Int, columns: Int, parts: SVDParts, fill: MatrixRowFill) throws -> SVDResult {
        throw SVDError.unsupported("no SVD is needed to load a trained adapter")
    }
}
