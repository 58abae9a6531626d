// `secura-dist export`: a trained adapter folded into the model, as a Hugging Face safetensors folder
// that transformers loads or as one GGUF file that llama.cpp loads; LoRA/DoRA/I-LoRA also as a PEFT
// adapter folder.
import ArgumentParser
import Foundation
import SecuraAdapters
import SecuraIO
import SecuraModel
import SecuraTensor
import SecuraTrain

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a merged model (Hugging Face safetensors or GGUF) or a PEFT adapter from a trained adapter.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        /// config.json + model.safetensors with the adapter merged into the weights.
        case merged
        /// adapter_config.json + adapter_model.safetensors (lora, dora, i-lora only).
        case peft
        /// One GGUF file (llama.cpp's names and layout) with the adapter merged into the weights.
        case gguf
    }

    enum Precision: String, ExpressibleByArgument, CaseIterable {
        case bf16, fp32, f16, q8_0
    }

    @Option(help: "The base model: a GGUF file or a Hugging Face folder.")
    var model: String

    @Option(help: "The adapter: a folder written by train (OUTPUT/adapter or a checkpoint) or a PEFT folder.")
    var adapter: String

    @Option(help: "Output folder (created; files in it are replaced, and weight files of an earlier export removed); for --format gguf the .gguf file to write (replaced atomically).")
    var output: String

    @Option(help: "merged (a full Hugging Face model), peft (an adapter folder) or gguf (one llama.cpp GGUF file: llama.cpp's tensor names, Llama q/k rows permuted, Gemma2 norms as 1 + w, 1-D tensors F32, the tokenizer and chat template of the base model when it has one).")
    var format: Format = .merged

    @Option(help: "Weight precision: bf16 or fp32 for merged; f16, bf16, q8_0 (blocks of 32, f16 scale; a matrix whose rows are not whole blocks is written F16, as llama.cpp's converter does) or fp32 for gguf.")
    var dtype: Precision = .bf16

    @Option(help: "Largest output shard of a merged model in GB (10^9 bytes; as make-model), or with a unit: 500MB, 10KB, 123B. More than one shard adds model.safetensors.index.json.")
    var shardSize: String = "5"

    @OptionGroup var runtime: RuntimeOptions

    /// "5" or "0.5" (GB), "5GB", "500MB", "10KB", "123B" (decimal units, as transformers' max_shard_size).
    static func bytes(_ text: String) -> Int? {
        let units: [(String, Double)] = [("GB", 1e9), ("MB", 1e6), ("KB", 1e3), ("B", 1)]
        let upper = text.uppercased()
        for (suffix, scale) in units where upper.hasSuffix(suffix) {
            guard let n = Double(upper.dropLast(suffix.count)), n > 0 else { return nil }
            return Int(n * scale)
        }
        guard let gigabytes = Double(text), gigabytes > 0, gigabytes.isFinite else { return nil }
        return Int(gigabytes * 1e9)
    }

    func validate() throws {
        guard Self.bytes(shardSize) != nil else { throw ValidationError("--shard-size '\(shardSize)' is not a size (GB, e.g. 5 or 0.5, or with a unit: 500MB)") }
        if format == .merged, dtype != .bf16, dtype != .fp32 {
            throw ValidationError("--dtype \(dtype.rawValue) is for --format gguf; a merged folder is bf16 or fp32")
        }
        if format == .gguf, !output.lowercased().hasSuffix(".gguf") {
            throw ValidationError("--format gguf writes one file: --output must name a .gguf file, not '\(output)'")
        }
    }

    func run() throws {
        try runReportingErrors(runtime) { comm in
            guard comm.isRoot else { return }
            let loaded = try ModelLoader.open(model)
            // SECURA-M1's masters stay on disk: a merged export reads them one matrix at a time.
            let adapters = try AdapterLoader.open(adapter, config: loaded.config, base: loaded.source, loadMasters: format == .peft)
            let out = URL(fileURLWithPath: output)
            switch format {
            case .peft:
                try PEFTFormat.export(adapters, to: out, baseModel: model)
            case .gguf:
                try writeGGUF(loaded, adapters: adapters)
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
                let stored = try AdapterLoader.storedMasters(adapter, adapters: adapters)
                try MergedExport.write(adapters, base: loaded.source, tensorNames: names, config: loaded.raw, to: out,
                                       dtype: dtype == .bf16 ? .bf16 : .f32, tokenizerFiles: tokenizerFiles,
                                       shardSize: Self.bytes(shardSize)!, current: { try stored?.weight($0) }) { p in
                    print("shard \(p.shard)/\(p.shards) \(p.file)  " + String(format: "%.2f of %.2f GB  %.1f s, ETA %.0f s",
                          Double(p.bytesWritten) / 1e9, Double(p.totalBytes) / 1e9, p.seconds, p.eta))
                }
            }
            print("wrote \(format.rawValue) \(adapters.settings.method.rawValue) export to \(out.path)")
        }
    }

    /// The GGUF export: tokenizer keys from the base, progress every 10 % of the bytes and at the end.
    private func writeGGUF(_ loaded: LoadedModel, adapters: AdapterSet) throws {
        let precision: GGUFExport.Precision
        switch dtype {
        case .fp32: precision = .f32
        case .f16: precision = .f16
        case .bf16: precision = .bf16
        case .q8_0: precision = .q8_0
        }
        let tokenizer = try GGUFExport.tokenizerMetadata(modelPath: model, config: loaded.config, raw: loaded.raw)
        if tokenizer.isEmpty { print("the base model has no tokenizer: the GGUF file has no vocabulary (tokenizer.ggml.model = \"none\")") }
        let names = loaded.tensors.map(\.name).filter { loaded.source.contains($0) && GGUFTensorNames.gguf($0, architecture: loaded.config.architecture) != nil }
        let stored = try AdapterLoader.storedMasters(adapter, adapters: adapters)
        let name = URL(fileURLWithPath: model).deletingPathExtension().lastPathComponent + " + " + URL(fileURLWithPath: adapter).lastPathComponent
        var nextReport = 0.1
        try GGUFExport.write(adapters, base: loaded.source, config: loaded.config, raw: loaded.raw, tensorNames: names,
                             tokenizer: tokenizer, name: name, to: output, precision: precision,
                             current: { try stored?.weight($0) }) { p in
            let fraction = p.totalBytes > 0 ? Double(p.bytesWritten) / Double(p.totalBytes) : 1
            guard fraction >= nextReport || p.shard == p.shards else { return }
            nextReport = (fraction * 10).rounded(.down) / 10 + 0.1
            print("tensor \(p.shard)/\(p.shards) \(p.file)  " + String(format: "%.2f of %.2f GB  %.1f s, ETA %.0f s",
                  Double(p.bytesWritten) / 1e9, Double(p.totalBytes) / 1e9, p.seconds, p.eta))
        }
    }
}
