// `secura-dist inspect MODEL`: architecture, shapes, dtypes and parameter count of a model.
import ArgumentParser
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraModel
import SecuraRun
import SecuraTensor

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Describe a model: architecture, dimensions, tensors, dtypes and parameter count.")

    @Argument(help: "A Hugging Face model folder (config.json + model.safetensors or a sharded index), or a GGUF file.")
    var model: String?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Flag(help: "List every tensor (always included with --json).")
    var tensors = false

    @OptionGroup(title: "Trainable parameters of a method (with --method)") var methodOptions: MethodOptions

    @OptionGroup(title: "Memory plan of a training run") var planOptions: MemoryPlanOptions

    @OptionGroup var runtime: RuntimeOptions

    struct Report: Encodable {
        struct Tensor: Encodable { let name: String; let dtype: String; let shape: [Int] }
        let path: String
        let architecture: String
        let hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, num_key_value_heads: Int
        let head_dim, vocab_size: Int
        let rms_norm_eps: Double
        let rope_theta: Double
        let rope_scaling: String
        let tie_word_embeddings: Bool
        let qkv_bias: Bool
        let parameters: Int
        let dtypes: [String: Int]
        let tensors: [Tensor]
        var method: String?
        var trainable_per_layer: [Int]?
        /// With --imsm: the IMSM mode and the gate's trainable scalars (also counted in trainable_total).
        var imsm: String?
        var imsm_gate: Int?
        var trainable_total: Int?
    }

    func run() throws {
        try runReportingErrors(runtime) { comm in
            if let name = planOptions.shape {
                // A plan for a shape nobody has to write to disk first (bf16, as the real models ship).
                guard model == nil, planOptions.memoryPlan else {
                    throw ValidationError("--shape goes with --memory-plan and no MODEL")
                }
                let c = try ModelShape.named(name).decoderConfig()
                let o = planOptions
                let plan = memoryPlan(config: c, mappedFileBytes: 2 * c.parameterCount, dequantisedElements: 0,
                                      settings: try methodOptions.settings(), ranksPerNode: o.ranksPerNode,
                                      microBatch: o.microBatch, maxLength: o.maxLength, recompute: o.recompute)
                let available = NodeMemory.available()
                let out = RootPrinter(comm: comm)
                out("\(name) (bf16, \(c.parameterCount.formatted()) parameters)")
                for line in plan.table(availableBytes: available?.bytes, availableSource: available?.source ?? "unknown") { out(line) }
                return
            }
            guard let model else { throw ValidationError("give a MODEL (a Hugging Face folder or a GGUF file)") }
            let loaded = try ModelLoader.open(model)
            let decoder = try loaded.decoder()
            let c = loaded.config
            var dtypes: [String: Int] = [:]
            for t in loaded.tensors { dtypes[t.dtype, default: 0] += t.shape.reduce(1, *) }
            var report = Report(
                path: loaded.path, architecture: c.architecture.rawValue, hidden_size: c.hiddenSize,
                intermediate_size: c.intermediateSize, num_hidden_layers: c.layers, num_attention_heads: c.heads,
                num_key_value_heads: c.kvHeads, head_dim: c.headDim, vocab_size: c.vocabSize,
                rms_norm_eps: Double(c.rmsNormEps), rope_theta: c.ropeTheta, rope_scaling: "\(c.ropeScaling)",
                tie_word_embeddings: c.tieWordEmbeddings, qkv_bias: c.qkvBias,
                parameters: decoder.parameterCount, dtypes: dtypes,
                tensors: loaded.tensors.map { Report.Tensor(name: $0.name, dtype: $0.dtype, shape: $0.shape) })
            if methodOptions.method != nil {
                var layout = ParameterLayout()
                let settings = try methodOptions.settings()
                let plans = MethodPlanner.plan(c, settings, layout: &layout)
                let perLayer = MethodPlanner.trainablePerLayer(plans, layers: c.layers)
                report.method = settings.method.rawValue
                report.imsm = settings.imsm?.mode.rawValue
                report.trainable_per_layer = perLayer
                report.imsm_gate = settings.imsm?.parameterCount(width: c.hiddenSize)
                // Every registered tensor: the sites' and, with --imsm, the gate's.
                report.trainable_total = layout.count
            }
            let out = RootPrinter(comm: comm)
            if planOptions.memoryPlan {
                let o = planOptions
                let plan = memoryPlan(loaded, settings: try methodOptions.settings(), ranksPerNode: o.ranksPerNode,
                                      microBatch: o.microBatch, maxLength: o.maxLength, recompute: o.recompute)
                let available = NodeMemory.available()
                for line in plan.table(availableBytes: available?.bytes, availableSource: available?.source ?? "unknown") { out(line) }
                return
            }
            if json {
                out(try jsonLine(report))
                return
            }
            out("""
                model        \(report.path)
                architecture \(report.architecture)
                layers       \(c.layers)   width \(c.hiddenSize)   ffn \(c.intermediateSize)   vocab \(c.vocabSize)
                heads        \(c.heads) query, \(c.kvHeads) key/value, head dim \(c.headDim)
                rope         theta \(c.ropeTheta), scaling \(c.ropeScaling)
                norm eps     \(c.rmsNormEps)   tied embeddings \(c.tieWordEmbeddings)   qkv bias \(c.qkvBias)
                parameters   \(decoder.parameterCount.formatted())
                dtypes       \(dtypes.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.formatted())" }.joined(separator: ", "))
                """)
            if c.architecture == .gemma2 {
                let sliding = c.slidingLayers.indices.filter { c.slidingLayers[$0] }
                let shown = sliding.prefix(4).map(String.init).joined(separator: ", ") + (sliding.count > 4 ? ", ..." : "")
                out("gemma2       attention scale \(c.attentionScale.map { "\($0)" } ?? "1/√D"), soft-caps "
                    + "\(c.attentionSoftcap.map { "\($0)" } ?? "none") (scores) \(c.finalSoftcap.map { "\($0)" } ?? "none") (logits), "
                    + "window \(c.slidingWindow ?? 0) on layers \(shown) (\(sliding.count) of \(c.layers))")
            }
            if let method = report.method, let perLayer = report.trainable_per_layer, let total = report.trainable_total {
                out("trainable    \(method)\(report.imsm.map { " + imsm " + $0 } ?? ""): \(total.formatted()) (\(perLayer.first ?? 0) per layer"
                    + (report.imsm_gate.map { ", IMSM gate \($0.formatted())" } ?? "") + ")")
            }
            if tensors {
                for t in report.tensors { out("  \(t.name)  \(t.dtype)  \(t.shape)") }
            }
        }
    }
}
