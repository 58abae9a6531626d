// Hugging Face PEFT's LoRA/DoRA adapter folders: adapter_config.json + adapter_model.safetensors.
// We read them (to start from the same weights as peft: --init-adapter) and write them (export).
// PEFT names a tensor "base_model.model.<module>.lora_A.weight"; the DoRA magnitude has no ".weight".
import Foundation
import SecuraAdapters
import SecuraErrors
import SecuraIO
import SecuraModel

/// The adapter_config.json fields secura-dist reads and writes.
public struct PEFTAdapterConfig: Codable, Sendable {
    public var peft_type: String
    public var r: Int
    public var lora_alpha: Double
    public var target_modules: [String]
    public var use_dora: Bool?
    public var lora_dropout: Double?
    public var bias: String?
    public var task_type: String?
    public var base_model_name_or_path: String?
    public var fan_in_fan_out: Bool?
    public var use_rslora: Bool?
}

public enum PEFTFormat {
    public static let configFile = "adapter_config.json"
    public static let weightsFile = "adapter_model.safetensors"

    /// PEFT's file name of one of our trainable tensors.
    public static func peftName(_ name: String) -> String {
        name.hasSuffix(".lora_magnitude_vector") ? "base_model.model." + name : "base_model.model." + name + ".weight"
    }

    public static func readConfig(_ folder: URL) throws -> PEFTAdapterConfig {
        let url = folder.appendingPathComponent(configFile)
        guard let data = try? Data(contentsOf: url) else {
            throw ModelError.missingFile(path: url.path, what: "PEFT adapter configuration")
        }
        return try decodeConfig(data, path: url.path)
    }

    /// Decodes and checks the bytes of an adapter_config.json; `path` names it in errors.
    public static func decodeConfig(_ data: Data, path: String) throws -> PEFTAdapterConfig {
        let config: PEFTAdapterConfig
        do {
            config = try JSONDecoder().decode(PEFTAdapterConfig.self, from: data)
        } catch DecodingError.dataCorrupted(let context) {
            if let problem = JSONFractionLocator.placedProblem(PEFTAdapterConfig.self, in: data) {
                throw ModelError.unreadableConfig(path: path, reason: "\(problem)")
            }
            throw ModelError.unreadableConfig(path: path, reason: "not a PEFT LoRA configuration (\(context.debugDescription))")
        } catch {
            throw ModelError.unreadableConfig(path: path, reason: "not a PEFT LoRA configuration with a list of target_modules (\(error))")
        }
        guard config.peft_type == "LORA" else {
            throw ModelError.invalidConfig(path: path, key: "peft_type", reason: "is '\(config.peft_type)'; only LORA (with or without use_dora) is supported")
        }
        guard config.fan_in_fan_out != true, config.use_rslora != true else {
            throw ModelError.invalidConfig(path: path, key: "use_rslora/fan_in_fan_out", reason: "is not supported")
        }
        return config
    }

    /// Method settings equivalent to a PEFT folder's configuration.
    public static func settings(_ config: PEFTAdapterConfig, path: String) throws -> MethodSettings {
        var s = MethodSettings()
        s.method = config.use_dora == true ? .dora : .lora
        s.rank = config.r
        s.alpha = Float(config.lora_alpha)
        s.dropout = Float(config.lora_dropout ?? 0)
        s.targets = try config.target_modules.map { name in
            guard let p = Projection(rawValue: name) else {
                throw ModelError.invalidConfig(path: path, key: "target_modules", reason: "names '\(name)'; supported: \(Projection.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return p
        }
        return s
    }

    /// Loads a PEFT folder's A, B (and DoRA magnitude) into `adapters` (a set whose method has the folder's
    /// PEFT form and whose rank, targets and α match the folder).
    public static func load(_ folder: URL, into adapters: AdapterSet) throws {
        let config = try readConfig(folder)
        let path = folder.appendingPathComponent(configFile).path
        let wanted = try settings(config, path: path)
        let s = adapters.settings
        guard let form = adapters.method.peftForm, form == wanted.method.definition.peftForm else {
            throw ModelError.invalidConfig(path: path, key: "use_dora", reason: "does not match \(Setting("the method", key: "method")) \(s.method.rawValue)")
        }
        guard wanted.rank == s.rank, wanted.alpha == s.alpha, Set(wanted.targets) == Set(s.targets) else {
            throw ModelError.invalidConfig(path: path, key: "r/lora_alpha/target_modules",
                                           reason: "(\(wanted.rank), \(wanted.alpha), \(wanted.targets.map(\.rawValue))) do not match this run's \(Setting("rank", key: "r")) \(s.rank), \(Setting("α", key: "lora_alpha")) \(s.alpha), \(Setting("targets", key: "target_modules")) \(s.targets.map(\.rawValue))")
        }
        let file = try SafeTensorsFile(path: folder.appendingPathComponent(weightsFile).path)
        // The sites' tensors only: an IMSM gate of the run is not part of a PEFT folder and keeps its init.
        for e in adapters.plans.flatMap(\.tensors) {
            let name = peftName(e.name)
            guard let entry = file.entry(name) else { throw IOError.tensorNotFound(path: file.path, tensor: name) }
            guard entry.shape == e.shape else {
                throw ModelError.shapeMismatch(name: name, source: file.path, expected: e.shape, found: entry.shape)
            }
            let values = try file.floats(name)
            (adapters.parameters.values.storage.pointer + e.offset).update(from: values, count: e.count)
        }
        adapters.methodState?.trainableValuesReplaced()
    }

    /// Writes `adapters` (a method with a PEFT form) as a PEFT folder that peft's PeftModel.from_pretrained loads.
    public static func export(_ adapters: AdapterSet, to folder: URL, baseModel: String) throws {
        let s = adapters.settings
        guard let form = adapters.method.peftForm else {
            let names = AdapterMethod.allCases.filter { $0.definition.peftForm != nil }.map(\.rawValue)
            throw MethodError.noPEFTForm(method: s.method.rawValue, supported: names)
        }
        guard s.imsm == nil else { throw MethodError.imsmHasNoSingleModelForm(format: "a PEFT adapter") }
        // Staged: a failure never leaves new weights beside an old config (or a folder without one).
        try StagedFolder.write(folder, carryOver: { !$0.hasSuffix(".safetensors") }) { try write(adapters, form: form, to: $0, baseModel: baseModel) }
    }

    private static func write(_ adapters: AdapterSet, form: PEFTForm, to folder: URL, baseModel: String) throws {
        let s = adapters.settings
        var writer = SafeTensorsWriter(path: folder.appendingPathComponent(weightsFile).path)
        for e in adapters.parameters.layout.entries {
            try writer.add(peftName(e.name), floats: adapters.parameters.values.values(e.name)!, shape: e.shape)
        }
        try writer.write()
        let config = PEFTAdapterConfig(peft_type: "LORA", r: s.rank, lora_alpha: Double(s.alpha),
                                       target_modules: s.targets.map(\.rawValue), use_dora: form == .dora,
                                       lora_dropout: Double(s.dropout), bias: "none", task_type: "CAUSAL_LM",
                                       base_model_name_or_path: baseModel, fan_in_fan_out: false, use_rslora: false)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let file = try AtomicFileWriter(path: folder.appendingPathComponent(configFile).path)
        try file.write(Array(try encoder.encode(config)))
        try file.commit()
    }
}

/// Why an IMSM run has no single-model export: its output blends two models per token.
func imsmExportRefusal(_ format: String) -> String {
    MethodError.imsmHasNoSingleModelForm(format: format).description
}
