// Opens a trained adapter on a model: our own state folders (state.json + state.safetensors, from
// train's OUTPUT/adapter or any checkpoint) and Hugging Face PEFT LoRA/DoRA folders.
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraIO
import SecuraModel

public enum AdapterLoader {
    /// The adapter at `path` attached to a model of `config` whose original tensors come from `base`.
    /// CABR's C and R are re-selected from the original weights (they are a deterministic function of
    /// them); every trained value, merged weight and long-term copy comes from the folder.
    /// - Parameter loadMasters: false leaves SECURA-M1's merged masters on disk (`adapters.masters` is
    ///   empty; read them with `storedMasters`), for export.
    public static func open(_ path: String, config: DecoderConfig, base: WeightSource, loadMasters: Bool = true) throws -> AdapterSet {
        let folder = URL(fileURLWithPath: path)
        let fm = FileManager.default
        if fm.fileExists(atPath: folder.appendingPathComponent("state.json").path) {
            let state = try Checkpoint.readState(folder)
            var settings = state.method
            settings.cabrInit = .slice   // A is overwritten from the file: skip the SVD
            let adapters = try AdapterSet(config: config, base: base, settings: settings, seed: 0, solver: UnusedSVD(),
                                          allocateMasters: loadMasters)
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

    /// The merged masters (SECURA-M1's) as stored in the state folder at `path` (checked for coverage and
    /// shape), served one matrix at a time; nil when the adapter has none (other methods, PEFT folders).
    public static func storedMasters(_ path: String, adapters: AdapterSet) throws -> StoredMasters? {
        let folder = URL(fileURLWithPath: path)
        guard adapters.method.mergesIntoMasters,
              FileManager.default.fileExists(atPath: folder.appendingPathComponent("state.json").path) else { return nil }
        let state = try Checkpoint.readState(folder)
        let legacy = try SafeTensorsFile(path: folder.appendingPathComponent("state.safetensors").path)
        let shapes = Dictionary(uniqueKeysWithValues: adapters.plans.map { ($0.site.weightName, (rows: $0.outFeatures, columns: $0.inFeatures)) })
        return StoredMasters(pieces: try CheckpointMasters.pieces(in: folder, listed: state.masterFiles, legacy: legacy, expected: shapes,
                                                                  checksums: state.hasChecksums))
    }
}

/// The SVD is never needed when A comes from a file.
struct UnusedSVD: SVDSolver {
    func svd(rows: Int, columns: Int, parts: SVDParts, fill: MatrixRowFill) throws -> SVDResult {
        throw SVDError.unsupported("no SVD is needed to load a trained adapter")
    }
}
