// Folding adapters into the base weights, for `secura-dist export`: every adapted weight becomes
// W + ΔW of its method, written with the untouched tensors as a Hugging Face safetensors folder.
import Foundation
import SecuraAdapters
import SecuraIO
import SecuraModel
import SecuraTensor

public enum MergedExport {
    /// The merged weight [H, D] of `site`.
    /// - Throws: for `--smagnorm output`, whose output normalisation cannot be folded into a weight.
    /// - Parameter current: the merge target's current weight when it is not in `adapters.masters`.
    public static func mergedWeight(_ adapters: AdapterSet, site: LinearSite, original: WeightView,
                                    current: [Float]? = nil) throws -> [Float] {
        let s = adapters.settings
        if s.smagnorm == .output && s.method.isCABRFamily {
            throw ModelError.invalidInput("--smagnorm output normalises layer outputs; it has no merged-weight form (export the adapter state instead)")
        }
        var w = current ?? adapters.masters[site]?.toArray() ?? original.toFloatArray()
        let h = original.shape[0], d = original.shape[1]
        try w.withUnsafeMutableBufferPointer { buf in
            let p = buf.baseAddress!
            switch s.method {
            case .lora, .iLoRA:
                adapters.lora[site]!.merge(into: p)
            case .dora:
                // W' = (m / ‖W + s·B·A‖) ⊙ (W + s·B·A), row by row.
                let delta = adapters.dora[site]!
                delta.lora.merge(into: p)
                for j in 0..<h {
                    var ss = 0.0
                    for i in 0..<d { ss += Double(p[j * d + i]) * Double(p[j * d + i]) }
                    let scale = delta.magnitude[j] / Float(ss.squareRoot())
                    for i in 0..<d { p[j * d + i] *= scale }
                }
            case .curLoRA:
                let delta = adapters.cur[site]!
                // W += C·U·R without touching U (export must not change the adapter).
                let u = adapters.parameters.values.pointer(CURDelta.name(site))!
                let ur = FloatBuffer(count: delta.rank * d)
                BLAS.sgemm(m: delta.rank, n: d, k: delta.rank, a: u, lda: delta.rank, b: delta.r.pointer, ldb: d, c: ur.pointer, ldc: d)
                BLAS.sgemm(m: h, n: d, k: delta.rank, a: delta.c.pointer, lda: delta.rank, b: ur.pointer, ldb: d, beta: 1, c: p, ldc: d)
            case .cabrLoRA, .securaM1, .securaM2:
                let delta = adapters.cabr[site]!
                let product = delta.mergeProduct()
                if let la = delta.longA, let lb = delta.longB {
                    // SECURA-M2 adds the frozen long-term pair: C·(A_L·B_L)·R.
                    let ab = FloatBuffer(count: delta.rank * delta.rank)
                    BLAS.sgemm(m: delta.rank, n: delta.rank, k: delta.innerRank, a: la.pointer, lda: delta.innerRank, b: lb.pointer, ldb: delta.rank, c: ab.pointer, ldc: delta.rank)
                    let longProduct = FloatBuffer(count: delta.rank * d)
                    BLAS.sgemm(m: delta.rank, n: d, k: delta.rank, a: ab.pointer, lda: delta.rank, b: delta.r.pointer, ldb: d, c: longProduct.pointer, ldc: d)
                    BLAS.axpy(n: delta.rank * d, alpha: 1, x: longProduct.pointer, y: product.pointer)
                }
                BLAS.sgemm(m: h, n: d, k: delta.rank, a: delta.c.pointer, lda: delta.rank, b: product.pointer, ldb: d, beta: 1, c: p, ldc: d)
            case .full:
                let values = adapters.parameters.values.values(site.weightName)!
                p.update(from: values, count: values.count)
            }
        }
        return w
    }

    /// Writes a Hugging Face folder: config.json, the weights (every tensor of the model, adapted weights
    /// merged) as `model.safetensors` or, past `shardSize` bytes, as shards with an index (see
    /// MergedExport+Shards.swift), and, when `tokenizerFiles` are given, copies of them.
    /// - Parameters:
    ///   - current: a merge target's current fp32 weight when `adapters` does not hold it in memory
    ///     (`AdapterLoader.storedMasters`); nil uses `adapters.masters`.
    ///   - progress: called after each output shard.
    /// - Throws: for an IMSM run (its per-token gate between two models has no merged form).
    public static func write(_ adapters: AdapterSet, base: WeightSource, tensorNames: [String], config: ModelConfig,
                             to folder: URL, dtype: DType, tokenizerFiles: [URL], shardSize: Int = defaultShardSize,
                             current: ((LinearSite) throws -> [Float]?)? = nil,
                             progress: (ExportProgress) -> Void = { _ in }) throws {
        guard adapters.settings.imsm == nil else { throw ModelError.invalidInput(imsmExportRefusal("a merged Hugging Face model")) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        _ = try writeWeights(adapters, base: base, tensorNames: tensorNames, to: folder, dtype: dtype, shardSize: shardSize,
                             current: current ?? { _ in nil }, progress: progress)
        var out = config
        out.torch_dtype = nil
        if out.architectures == nil {
            out.architectures = [out.model_type == "qwen2" ? "Qwen2ForCausalLM" : "LlamaForCausalLM"]
        }
        out.hidden_act = out.hidden_act ?? "silu"
        out.dtype = dtype == .bf16 ? "bfloat16" : dtype == .f16 ? "float16" : "float32"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(out).write(to: folder.appendingPathComponent("config.json"), options: .atomic)
        for file in tokenizerFiles {
            let target = folder.appendingPathComponent(file.lastPathComponent)
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(at: file, to: target)
        }
    }
}
