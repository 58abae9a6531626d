// Measurements, not checks (skipped unless SECURA_SCALE_DIR names a working folder): checkpoint write
// and read times and sizes for SECURA-M1 on SmolLM2 and on a synthetic bf16 model with Llama-3-8B's
// widths (SECURA_SCALE_LAYERS layers, default 4; C 4096, F 14336, 32/8 heads, vocab 128256, sharded
// with an index, written streaming); with SECURA_SCALE_FULL set, instead all 32 layers at those widths
// over a source whose tensors are views of one shared buffer (2.7 GB of masters). The folders stay in SECURA_SCALE_DIR so `secura-dist export` can be
// measured on them with /usr/bin/time -v.
import Foundation
import XCTest
import SecuraAdapters
import SecuraDistributed
import SecuraIO
import SecuraModel
import SecuraTensor
import TestSupport
@testable import SecuraTrain

final class ScaleMeasurementTests: XCTestCase {
    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    static func folderBytes(_ url: URL) -> Int {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
        return names.reduce(0) { total, name in
            let size = (try? FileManager.default.attributesOfItem(atPath: url.appendingPathComponent(name).path)[.size] as? Int) ?? 0
            return total + (size ?? 0)
        }
    }

    /// Writes a Llama-3-8B-shaped bf16 folder with `layers` layers: embedding, one shard per layer, head.
    static func writeLlama8BShape(_ folder: URL, layers: Int) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let config = """
        {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336,
         "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128, "num_hidden_layers": \(layers),
         "vocab_size": 128256, "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "max_position_embeddings": 8192,
         "tie_word_embeddings": false, "bos_token_id": 128000, "eos_token_id": 128001, "hidden_act": "silu",
         "attention_bias": false, "mlp_bias": false, "torch_dtype": "bfloat16"}
        """
        try Data(config.utf8).write(to: folder.appendingPathComponent("config.json"))
        var rng = SeededRandom(seed: 11)
        let block = rng.normals(1 << 20, std: 0.02)
        var salt = 0
        func matrix(_ w: inout SafeTensorsWriter, _ name: String, _ rows: Int, _ cols: Int) throws {
            salt += 7919
            let offset = salt
            try w.add(name, shape: [rows, cols], as: .bf16) { range, into in
                var i = 0
                while i < range.count {
                    let from = (range.lowerBound + i + offset) % block.count
                    let n = min(range.count - i, block.count - from)
                    block.withUnsafeBufferPointer { (into.baseAddress! + i).update(from: $0.baseAddress! + from, count: n) }
                    i += n
                }
            }
        }
        func ones(_ w: inout SafeTensorsWriter, _ name: String, _ n: Int) throws {
            try w.add(name, floats: [Float](repeating: 1, count: n), shape: [n], as: .bf16)
        }
        let shards = layers + 2
        var weightMap: [String: String] = [:]
        var total = 0
        for k in 0..<shards {
            let name = String(format: "model-%05d-of-%05d.safetensors", k + 1, shards)
            var w = SafeTensorsWriter(path: folder.appendingPathComponent(name).path, metadata: ["format": "pt"])
            if k == 0 {
                try matrix(&w, ParameterName.embedding, 128256, 4096)
            } else if k == shards - 1 {
                try matrix(&w, ParameterName.outputHead, 128256, 4096)
                try ones(&w, ParameterName.finalNorm, 4096)
            } else {
                let i = k - 1
                try ones(&w, ParameterName.layer(i, "input_layernorm.weight"), 4096)
                try ones(&w, ParameterName.layer(i, "post_attention_layernorm.weight"), 4096)
                for (path, rows, cols) in [("self_attn.q_proj", 4096, 4096), ("self_attn.k_proj", 1024, 4096),
                                           ("self_attn.v_proj", 1024, 4096), ("self_attn.o_proj", 4096, 4096),
                                           ("mlp.gate_proj", 14336, 4096), ("mlp.up_proj", 14336, 4096), ("mlp.down_proj", 4096, 14336)] {
                    try matrix(&w, ParameterName.layer(i, path + ".weight"), rows, cols)
                }
            }
            for n in w.names { weightMap[n] = name }
            total += w.dataByteCount
            try w.write()
        }
        try MergedExport.writeIndex(weightMap, totalSize: total, to: folder.appendingPathComponent(SafeTensorsModel.indexFileName).path)
    }

    /// Every tensor of a Llama-3-8B-width model with `layers` layers (F and vocabulary cut to 64 and
    /// 256: only q/v matter for the masters) served as views of ONE shared 4096×4096 random buffer, so
    /// a 32-layer model costs 64 MB.
    final class SharedBufferWeights: WeightSource {
        let buffer: FloatBuffer
        var shapes: [String: [Int]] = [:]
        let config: DecoderConfig
        var sourceDescription: String { "shared-buffer Llama-3-8B widths" }

        init(layers: Int) throws {
            var rng = SeededRandom(seed: 5)
            buffer = FloatBuffer(rng.normals(4096 * 4096, std: 0.02))
            let json = """
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096, "intermediate_size": 64,
             "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128, "num_hidden_layers": \(layers),
             "vocab_size": 256, "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "max_position_embeddings": 8192,
             "tie_word_embeddings": false, "hidden_act": "silu", "attention_bias": false, "mlp_bias": false}
            """
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("shape-\(UUID().uuidString).json")
            try Data(json.utf8).write(to: url)
            defer { try? FileManager.default.removeItem(at: url) }
            config = try DecoderConfig(ModelConfig.load(from: url), path: url.path)
            shapes[ParameterName.embedding] = [256, 4096]
            shapes[ParameterName.outputHead] = [256, 4096]
            shapes[ParameterName.finalNorm] = [4096]
            for i in 0..<layers {
                for (path, shape) in [("input_layernorm", [4096]), ("post_attention_layernorm", [4096]),
                                      ("self_attn.q_proj", [4096, 4096]), ("self_attn.k_proj", [1024, 4096]),
                                      ("self_attn.v_proj", [1024, 4096]), ("self_attn.o_proj", [4096, 4096]),
                                      ("mlp.gate_proj", [64, 4096]), ("mlp.up_proj", [64, 4096]), ("mlp.down_proj", [4096, 64])] {
                    shapes[ParameterName.layer(i, path + ".weight")] = shape
                }
            }
        }

        func contains(_ name: String) -> Bool { shapes[name] != nil }

        func view(_ name: String) throws -> WeightView {
            guard let shape = shapes[name] else { throw ModelError.missingTensor(name: name, source: sourceDescription) }
            return WeightView(name: name, dtype: .f32, shape: shape, data: UnsafeRawPointer(buffer.pointer), owner: buffer)
        }
    }

    /// Saves a SECURA-M1 checkpoint of `model` from `ranks` in-process ranks, restores it on 1 and 2.
    static func measure(_ label: String, model: String, checkpoint: URL, ranks: Int, vocab: Int) throws {
        try measure(label, checkpoint: checkpoint, ranks: ranks, vocab: vocab) {
            let loaded = try ModelLoader.open(model)
            return (loaded.config, loaded.source)
        }
    }

    static func measure(_ label: String, checkpoint: URL, ranks: Int, vocab: Int,
                        model modelSource: @escaping () throws -> (DecoderConfig, WeightSource)) throws {
        let model = "measurement"
        func trainer(_ comm: Communicator) throws -> Trainer {
            let (config, source) = try modelSource()
            var s = MethodSettings()
            s.method = .securaM1
            s.cabrInit = .slice
            let adapters = try AdapterSet(config: config, base: source, settings: s, seed: 3, solver: NoSVD(), comm: comm)
            var o = TrainingOptions()
            o.batchSize = 2
            o.microBatch = 1
            let examples = (0..<4).map { k in TrainingExample(tokens: (0..<8).map { Int32(($0 * 37 + k) % vocab) }, lossMask: Array(repeating: true, count: 8)) }
            return try Trainer(adapters: adapters, options: o, comm: comm, train: examples, validation: [])
        }
        try? FileManager.default.removeItem(at: checkpoint)
        let writes = try InProcessWorld.run(ranks: ranks) { comm -> Double in
            let t = try trainer(comm)
            try comm.barrier()
            return try seconds { try Checkpoint.save(t, modelPath: model, to: checkpoint, optimizer: true) }
        }
        let masters = (try Checkpoint.readState(checkpoint).masterFiles ?? []).map {
            Self.folderBytes(checkpoint) > 0 ? (try? FileManager.default.attributesOfItem(atPath: checkpoint.appendingPathComponent($0).path)[.size] as? Int) ?? 0 : 0
        }
        print("[scale] \(label): checkpoint by \(ranks) ranks: write \(String(format: "%.2f", writes[0])) s, folder \(folderBytes(checkpoint)) bytes, master files \(masters)")
        for readRanks in [1, 2] {
            let reads = try InProcessWorld.run(ranks: readRanks) { comm -> Double in
                let t = try trainer(comm)
                try comm.barrier()
                return try seconds { try t.resume(from: checkpoint) }
            }
            print("[scale] \(label): restore on \(readRanks) rank(s): \(String(format: "%.2f", reads.max()!)) s")
        }
    }

    func testCheckpointScale() throws {
        guard let dir = ProcessInfo.processInfo.environment["SECURA_SCALE_DIR"] else { throw XCTSkip("set SECURA_SCALE_DIR to measure") }
        let root = URL(fileURLWithPath: dir)
        if ProcessInfo.processInfo.environment["SECURA_SCALE_FULL"] != nil {
            // 32 layers at Llama-3-8B widths, every tensor a view of one shared buffer (2.7 GB of masters).
            let shared = try SharedBufferWeights(layers: 32)
            try Self.measure("Llama-3-8B widths, 32 layers (shared-buffer source)", checkpoint: root.appendingPathComponent("llama8b-32-ckpt"),
                             ranks: 2, vocab: 256) { (shared.config, shared) }
            try? FileManager.default.removeItem(at: root.appendingPathComponent("llama8b-32-ckpt"))
            return
        }
        if let smol = FixturePaths.smolLM2 {
            try Self.measure("SmolLM2-135M", model: smol, checkpoint: root.appendingPathComponent("smollm2-ckpt"), ranks: 2, vocab: 49152)
        }
        let layers = Int(ProcessInfo.processInfo.environment["SECURA_SCALE_LAYERS"] ?? "") ?? 4
        let model = root.appendingPathComponent("llama8b-shape-L\(layers)")
        if !FileManager.default.fileExists(atPath: model.appendingPathComponent(SafeTensorsModel.indexFileName).path) {
            let t = try Self.seconds { try Self.writeLlama8BShape(model, layers: layers) }
            print("[scale] wrote \(model.path) (\(Self.folderBytes(model)) bytes) in \(String(format: "%.1f", t)) s")
        }
        try Self.measure("Llama-3-8B widths, \(layers) layers", model: model.path, checkpoint: root.appendingPathComponent("llama8b-ckpt"),
                         ranks: 2, vocab: 128256)
    }
}
