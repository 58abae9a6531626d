// Opens a model by path: a Hugging Face folder (config.json + safetensors). GGUF comes later.
import Foundation
import SecuraIO
import SecuraTensor

extension SafeTensorsModel: WeightSource {
    public var sourceDescription: String { path }
}

/// A model opened from disk: its configuration and the source of its tensors.
public struct LoadedModel {
    public let path: String
    public let raw: ModelConfig
    public let config: DecoderConfig
    public let source: WeightSource
    /// Every stored tensor: name, dtype name, shape (for `inspect`).
    public let tensors: [(name: String, dtype: String, shape: [Int])]

    /// Binds the decoder (checks every tensor's presence and shape).
    public func decoder() throws -> DecoderModel {
        try DecoderModel(config: config, source: source)
    }
}

public enum ModelLoader {
    /// Opens the model at `path`.
    /// - Throws: ModelError or IOError naming the file and the problem.
    public static func open(_ path: String) throws -> LoadedModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelError.missingFile(path: path, what: "model (a Hugging Face folder)")
        }
        guard isDirectory.boolValue else {
            throw ModelError.invalidInput("\(path): not a model folder (expected a folder with config.json and model.safetensors)")
        }
        let folder = URL(fileURLWithPath: path)
        let configURL = folder.appendingPathComponent("config.json")
        let raw = try ModelConfig.load(from: configURL)
        let config = try DecoderConfig(raw, path: configURL.path)
        let weights = try SafeTensorsModel(path: path)
        let tensors = weights.entries.map { (name: $0.name, dtype: $0.dtypeName, shape: $0.shape) }
        return LoadedModel(path: path, raw: raw, config: config, source: weights, tensors: tensors)
    }
}
