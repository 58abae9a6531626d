// `secura-dist bench`: throughput measurements (never timed assertions in tests).
import ArgumentParser
import Foundation
import SecuraModel
import SecuraTensor

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure forward+backward throughput (tokens/s) of a model or a preset shape with random weights, the machine's limit for a training step (--limit), or the gradient all-reduce alone (--allreduce).")

    enum Preset: String, ExpressibleByArgument, CaseIterable {
        /// SmolLM2-135M's shape: width 576, 30 layers, 9 heads, 3 KV heads, FFN 1536, vocab 49152, tied.
        case smollm2_135m = "smollm2-135m"
        /// The 2-layer test fixture's shape (Tests/Fixtures/tiny-llama).
        case tiny
    }

    enum Gradients: String, ExpressibleByArgument, CaseIterable {
        /// Gradients of every weight (full fine-tuning).
        case weights
        /// Only activation gradients (what adapter methods need from the frozen model).
        case inputs
        /// Forward only.
        case none
    }

    @Option(help: "A Hugging Face model folder to benchmark (overrides --preset).")
    var model: String?

    @Option(help: "Random-weight model shape: \(Preset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var preset: Preset = .smollm2_135m

    @Option(help: "Tokens per sequence (T).")
    var tokens = 256

    @Option(help: "Sequences per micro-batch (B).")
    var batch = 1

    @Option(help: "Which gradients the backward pass computes: weights, inputs, none (forward only).")
    var gradients: Gradients = .weights

    @Option(help: "Timed iterations.")
    var iterations = 3

    @Option(help: "Untimed warm-up iterations.")
    var warmup = 1

    @Flag(help: "Print one JSON object.")
    var json = false

    @Flag(help: "Measure the machine's limit for a training step instead: sgemm at the model's projection shapes (every rank at once under mpirun; the fastest of --iterations repetitions per shape) and the step's FLOPs for --batch sequences of --tokens.")
    var limit = false

    @Option(help: "With --limit: the method whose adapter FLOPs are counted.")
    var method = "secura-m1"

    @Flag(help: "With --limit: count recomputation's extra forward.")
    var recompute = false

    @Option(help: ArgumentHelp("Measure the gradient all-reduce alone instead: comma-separated buffer sizes in Double values (for example 1000,100000,3840000), each timed --iterations times after --warmup; the time of an iteration is the slowest rank's.",
                               valueName: "values,..."))
    var allreduce: String?

    @OptionGroup var runtime: RuntimeOptions

    static func presetConfig(_ p: Preset) throws -> DecoderConfig {
        var raw = ModelConfig()
        raw.model_type = "llama"
        switch p {
        case .smollm2_135m:
            raw.hidden_size = 576; raw.intermediate_size = 1536; raw.num_hidden_layers = 30
            raw.num_attention_heads = 9; raw.num_key_value_heads = 3; raw.vocab_size = 49152
            raw.rms_norm_eps = 1e-5; raw.rope_theta = 100000; raw.tie_word_embeddings = true
        case .tiny:
            raw.hidden_size = 64; raw.intermediate_size = 176; raw.num_hidden_layers = 2
            raw.num_attention_heads = 4; raw.num_key_value_heads = 2; raw.head_dim = 24; raw.vocab_size = 256
            raw.rms_norm_eps = 1e-5
        }
        return try DecoderConfig(raw, path: "preset \(p.rawValue)")
    }

    struct Result: Encodable {
        let model: String, gradients: String
        let threads, batch, tokens, iterations: Int
        let seconds_per_iteration: Double
        let tokens_per_second: Double
    }

    func run() throws {
        guard tokens >= 2, batch >= 1, iterations >= 1, warmup >= 0 else {
            throw ValidationError("--tokens must be ≥ 2, --batch and --iterations ≥ 1, --warmup ≥ 0")
        }
        let allReduceSizes = try allreduce.map(Self.allReduceSizes)
        try runReportingErrors(runtime) { comm in
            if let allReduceSizes {
                try runAllReduce(sizes: allReduceSizes, comm: comm)
                return
            }
            if limit {
                let config = try model.map { try ModelLoader.open($0).config } ?? Self.presetConfig(preset)
                try runLimit(config: config, name: model ?? preset.rawValue, comm: comm)
                return
            }
            let decoder: DecoderModel
            let name: String
            if let model {
                decoder = try ModelLoader.open(model).decoder()
                name = model
            } else {
                let config = try Self.presetConfig(preset)
                decoder = try DecoderModel(config: config, source: InMemoryWeights.random(config: config, seed: 1, embeddingStd: 0.02))
                name = preset.rawValue
            }
            var rng = SeededRandom(seed: 7)
            let ids = (0..<(batch * tokens)).map { _ in Int32(rng.next() % UInt64(decoder.config.vocabSize)) }
            let tb = TokenBatch(tokens: ids, batch: batch, length: tokens)
            let acts = DecoderActivations(config: decoder.config, batch: batch, length: tokens)
            let grads = gradients == .weights ? ParameterBuffer(layout: decoder.parameterLayout) : nil
            let targets = tb.nextTokenTargets
            func step() {
                decoder.forward(tb, into: acts)
                let (_, count) = decoder.crossEntropy(acts, targets: targets)
                if gradients != .none {
                    decoder.backward(tb, acts: acts, targets: targets, lossWeight: 1 / Float(count), gradients: grads)
                }
            }
            for _ in 0..<warmup { step() }
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<iterations { step() }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(iterations)
            let result = Result(model: name, gradients: gradients.rawValue, threads: BLAS.threads, batch: batch,
                                tokens: tokens, iterations: iterations, seconds_per_iteration: seconds,
                                tokens_per_second: Double(batch * tokens) / seconds)
            let out = RootPrinter(comm: comm)
            if json {
                out(try jsonLine(result))
            } else {
                out("\(name)  B=\(batch) T=\(tokens)  threads=\(result.threads)  grads=\(gradients.rawValue)  "
                    + String(format: "%.3f s/iter  %.1f tokens/s", seconds, result.tokens_per_second))
            }
        }
    }
}
