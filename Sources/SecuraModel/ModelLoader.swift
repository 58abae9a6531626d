// Opens a model by path: a Hugging Face folder (config.json + safetensors) or a GGUF file.
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
    /// Every stored tensor: name, dtype name, shape (for `inspect`). GGUF tensors are listed under their
    /// Hugging Face names with their ggml type names ("Q4_1", "Q8_0", "F32", ...).
    public let tensors: [(name: String, dtype: String, shape: [Int])]

    /// Binds the decoder (checks every tensor's presence and shape).
    public func decoder() throws -> DecoderModel {
        try DecoderModel(config: config, source: source)
    }

    /// The same model with its tensors served by `newSource` (e.g. an overlay of fused weights).
    public func replacingSource(_ newSource: WeightSource) -> LoadedModel {
        LoadedModel(path: path, raw: raw, config: config, source: newSource, tensors: tensors)
    }
}

public enum ModelLoader {
    /// Opens the model at `path`: a Hugging Face folder, or a `.gguf` file.
    /// - Throws: ModelError, IOError or GGUFError naming the file and the problem.
    public static func open(_ path: String) throws -> LoadedModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelError.missingFile(path: path, what: "model (a Hugging Face folder or a .gguf file)")
        }
        guard isDirectory.boolValue else {
            guard path.lowercased().hasSuffix(".gguf") else {
                throw ModelError.notAModel(path: path)
            }
            return try openGGUF(path)
        }
        let folder = URL(fileURLWithPath: path)
        let configURL = folder.appendingPathComponent("config.json")
        let raw = try ModelConfig.load(from: configURL)
        let config = try DecoderConfig(raw, path: configURL.path)
        let weights = try SafeTensorsModel(path: path)
        let tensors = weights.entries.map { (name: $0.name, dtype: $0.dtypeName, shape: $0.shape) }
        try config.checkLayers(against: tensors.lazy.map(\.name), key: "num_hidden_layers", path: configURL.path)
        return LoadedModel(path: path, raw: raw, config: config, source: weights, tensors: tensors)
    }

    /// Opens a GGUF file: configuration from its metadata, weights dequantised on first use.
    static func openGGUF(_ path: String) throws -> LoadedModel {
        let model = try GGUFModel(path: path)
        let config = try DecoderConfig(model.config, path: path)
        try config.checkLayers(against: model.tensors.lazy.map(\.name), key: "\(config.architecture.rawValue).block_count", path: path)
        return LoadedModel(path: path, raw: model.config, config: config, source: model, tensors: model.tensors)
    }
}
