// `secura-dist make-model --shape NAME --output DIR`: a Hugging Face folder with a real model's exact
// config, tensor names, shapes, dtypes and sharding, and random weights (the library's ShapedModelWriter).
import ArgumentParser
import Foundation
import SecuraModel
import SecuraTensor
import SecuraTokenizer

struct MakeModel: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "make-model",
        abstract: "Write a shape-faithful model folder: a real model's config and tensor layout, random weights.",
        discussion: """
            Shapes: \(ModelShape.catalogue.map { "\($0.name) (\($0.source))" }.joined(separator: ", ")). \
            config.json is the released base model's, with num_hidden_layers = --layers and torch_dtype = --dtype. \
            Weights are deterministic for --seed and do not depend on --threads: linear weights, the embedding and \
            the head are Irwin-Hall(4) (a bounded bell curve) with mean 0 and std 0.02, q/k/v biases the same with \
            std 0.01, norms scale by exactly 1 (weights 1; Gemma2's (1 + w) norms store 0). Shards are filled in state-dict order up to --shard-size (decimal GB, \
            as transformers counts) and named model-0000k-of-0000n.safetensors with model.safetensors.index.json; a \
            model that fits one shard is one model.safetensors. The tokenizer files (default: SmolLM2's 49,152-token \
            tokenizer from this checkout's Tests/Fixtures/tokenizers/smollm2) are copied unchanged; their ids fit \
            every catalogue vocabulary, but they are not the real model's tokenizer.
            """)

    @Option(help: "The model shape: \(ModelShape.catalogue.map(\.name).joined(separator: ", ")).")
    var shape: String

    @Option(help: "The output folder (created; must be empty unless --force).")
    var output: String

    @Option(help: "Decoder layers to write (default: the real count); every width stays the real one.")
    var layers: Int?

    @Option(help: "Storage type of every tensor: bf16, f16 or f32.")
    var dtype: String = "bf16"

    @Option(help: "Seed of the weights.")
    var seed: UInt64 = 0

    @Option(name: .customLong("shard-size"), help: "Largest shard in GB (10^9 bytes).")
    var shardSize: Double = 5

    @Option(help: "A folder with tokenizer.json (and optionally tokenizer_config.json, chat_template.jinja) to copy.")
    var tokenizer: String?

    @Flag(help: "Write no tokenizer files.")
    var noTokenizer = false

    @Flag(help: "Write into an existing non-empty folder (its *.safetensors and index are removed first).")
    var force = false

    @OptionGroup var runtime: RuntimeOptions

    /// SmolLM2's tokenizer in the checkout this binary was built from.
    static let checkoutTokenizer = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Tests/Fixtures/tokenizers/smollm2").path

    func run() throws {
        try runReportingErrors(runtime) { comm in
            var shape = try ModelShape.named(self.shape)
            if let layers {
                guard layers >= 1 else { throw ValidationError("--layers must be at least 1") }
                shape = shape.withLayers(layers)
            }
            guard let dtype = DType(rawValue: dtype.uppercased()) else {
                throw ValidationError("--dtype must be bf16, f16 or f32, found '\(dtype)'")
            }
            guard shardSize > 0, shardSize.isFinite else { throw ValidationError("--shard-size must be positive") }
            var options = ShapedModelOptions(shape: shape, output: output)
            options.dtype = dtype
            options.seed = seed
            options.shardBytes = Int(shardSize * 1e9)
            options.threads = Parallel.threads
            options.force = force
            if !noTokenizer { options.extraFiles = try tokenizerFiles(vocabulary: try shape.decoderConfig().vocabSize) }
            guard comm.isRoot else { return }

            let out = RootPrinter(comm: comm)
            let plan = try ShapedModelPlan(shape: shape, dtype: dtype, shardBytes: options.shardBytes)
            out("make-model: \(shape.name) (\(shape.source)), \(plan.config.layers) layers, "
                + "\(plan.parameterCount.formatted()) parameters, \(dtype.rawValue), \(plan.shards.count) file(s), "
                + "\(ShapedModelError.gigabytes(plan.totalBytes)) → \(output)")
            var lastReport = -10.0, lastShard = 0
            try ShapedModelWriter.write(options) { p in
                let done = p.bytesWritten == p.totalBytes
                guard done || p.shard != lastShard || p.seconds - lastReport >= 2 else { return }
                lastReport = p.seconds
                lastShard = p.shard
                let rate = Double(p.bytesWritten) / max(p.seconds, 1e-9)
                let eta = Double(p.totalBytes - p.bytesWritten) / max(rate, 1)
                out("  shard \(p.shard)/\(p.shards)  \(ShapedModelError.gigabytes(p.bytesWritten)) of "
                    + "\(ShapedModelError.gigabytes(p.totalBytes))  \(Int(rate / 1e6)) MB/s  ETA \(Int(eta.rounded())) s  "
                    + p.tensor)
            }
            out("make-model: wrote \(output)")
        }
    }

    /// The tokenizer files to copy, after checking the tokenizer's ids fit the model's vocabulary.
    func tokenizerFiles(vocabulary: Int) throws -> [String] {
        let folder = tokenizer ?? Self.checkoutTokenizer
        let fm = FileManager.default
        guard fm.fileExists(atPath: folder + "/tokenizer.json") else {
            throw ValidationError("no tokenizer.json in \(folder): pass --tokenizer FOLDER or --no-tokenizer")
        }
        let loaded = try Tokenizer(directory: folder)
        guard loaded.vocabularySize <= vocabulary else {
            throw ValidationError("the tokenizer in \(folder) has \(loaded.vocabularySize) ids, more than the model's "
                + "vocabulary of \(vocabulary)")
        }
        return ["tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "special_tokens_map.json"]
            .map { folder + "/" + $0 }.filter { fm.fileExists(atPath: $0) }
    }
}
