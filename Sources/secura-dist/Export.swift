// `secura-dist export`: a trained adapter folded into the model, as a Hugging Face safetensors folder
// that transformers loads; LoRA/DoRA/I-LoRA also as a PEFT adapter folder.
import ArgumentParser
import Foundation
import SecuraIO
import SecuraModel
import SecuraTensor
import SecuraTrain

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a merged model (Hugging Face safetensors) or a PEFT adapter from a trained adapter.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        /// config.json + model.safetensors with the adapter merged into the weights.
        case merged
        /// adapter_config.json + adapter_model.safetensors (lora, dora, i-lora only).
        case peft
    }

    enum Precision: String, ExpressibleByArgument, CaseIterable {
        case bf16, fp32
    }

    @Option(help: "The base model: a GGUF file or a Hugging Face folder.")
    var model: String

    @Option(help: "The adapter: a folder written by train (OUTPUT/adapter or a checkpoint) or a PEFT folder.")
    var adapter: String

    @Option(help: "Output folder (created; files in it are replaced).")
    var output: String

    @Option(help: "merged (a full Hugging Face model) or peft (an adapter folder).")
    var format: Format = .merged

    @Option(help: "Weight precision of a merged model: bf16 or fp32.")
    var dtype: Precision = .bf16

    @OptionGroup var runtime: RuntimeOptions

    func run() throws {
        try runReportingErrors(runtime) { comm in
            guard comm.isRoot else { return }
            let loaded = try ModelLoader.open(model)
            let adapters = try AdapterLoader.open(adapter, config: loaded.config, base: loaded.source)
            let out = URL(fileURLWithPath: output)
            switch format {
            case .peft:
                try PEFTFormat.export(adapters, to: out, baseModel: model)
            case .merged:
                var tokenizerFiles: [URL] = []
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: model, isDirectory: &isDirectory), isDirectory.boolValue {
                    for name in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"] {
                        let url = URL(fileURLWithPath: model).appendingPathComponent(name)
                        if FileManager.default.fileExists(atPath: url.path) { tokenizerFiles.append(url) }
                    }
                }
                let names = loaded.tensors.map(\.name).filter { loaded.source.contains($0) }
                try MergedExport.write(adapters, base: loaded.source, tensorNames: names, config: loaded.raw, to: out,
                                       dtype: dtype == .bf16 ? .bf16 : .f32, tokenizerFiles: tokenizerFiles)
            }
            print("wrote \(format.rawValue) \(adapters.settings.method.rawValue) export to \(out.path)")
        }
    }
}
