// Folding adapters into the base weights, for `secura-dist export`: every adapted weight becomes
// W + ΔW of its method, written with the untouched tensors as a Hugging Face safetensors folder.
import Foundation
import SecuraAdapters
import SecuraIO
import SecuraModel
import SecuraTensor

public enum MergedExport {
    /// The merged weight [H, D] of `site`: the current weight (`current`, else the merge master, else the
    /// original) with the method's change folded in by the site itself (`MethodSite.merge`).
    /// - Throws: when the site's change has no merged-weight form (`--smagnorm output`).
    /// - Parameter current: the merge target's current weight when it is not in `adapters.masters`.
    public static func mergedWeight(_ adapters: AdapterSet, site: LinearSite, original: WeightView,
                                    current: [Float]? = nil) throws -> [Float] {
        guard let methodSite = adapters.sites[site] else {
            preconditionFailure("\(site.weightName) is not adapted by this run")
        }
        var w = current ?? adapters.masters[site]?.toArray() ?? original.toFloatArray()
        try w.withUnsafeMutableBufferPointer { try methodSite.merge(into: $0.baseAddress!) }
        return w
    }

    /// The bias tensors that sites' b_Δ (`--delta-bias`) change, by tensor name ("…q_proj.bias").
    /// - Throws: `MethodError.deltaBiasHasNoTarget` when a site has b_Δ but its projection no bias tensor.
    public static func biasSites(_ adapters: AdapterSet, tensorNames: [String]) throws -> [String: LinearSite] {
        let names = Set(tensorNames)
        var found: [String: LinearSite] = [:]
        for plan in adapters.plans where adapters.sites[plan.site]?.biasChange != nil {
            let name = String(plan.site.weightName.dropLast("weight".count)) + "bias"
            guard names.contains(name) else { throw MethodError.deltaBiasHasNoTarget(tensor: plan.site.weightName) }
            found[name] = plan.site
        }
        return found
    }

    /// The projection's bias with the site's b_Δ added.
    public static func mergedBias(_ adapters: AdapterSet, site: LinearSite, original: WeightView) -> [Float] {
        var b = original.toFloatArray()
        if let change = adapters.sites[site]?.biasChange {
            for i in b.indices { b[i] += change[i] }
        }
        return b
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
        guard adapters.settings.imsm == nil else { throw MethodError.imsmHasNoSingleModelForm(format: "a merged Hugging Face model") }
        // Written under a hidden name and renamed when complete: a full disk never leaves a folder that
        // looks like an export. Files a user added to an earlier export (not weights) are kept.
        try StagedFolder.write(folder, carryOver: { !$0.hasSuffix(".safetensors") && $0 != SafeTensorsModel.indexFileName }) {
            try writeFolder(adapters, base: base, tensorNames: tensorNames, config: config, to: $0, dtype: dtype,
                            tokenizerFiles: tokenizerFiles, shardSize: shardSize, current: current, progress: progress)
        }
    }

    private static func writeFolder(_ adapters: AdapterSet, base: WeightSource, tensorNames: [String], config: ModelConfig,
                                    to folder: URL, dtype: DType, tokenizerFiles: [URL], shardSize: Int,
                                    current: ((LinearSite) throws -> [Float]?)?, progress: (ExportProgress) -> Void) throws {
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
        let configFile = try AtomicFileWriter(path: folder.appendingPathComponent("config.json").path)
        try configFile.write(Array(try encoder.encode(out)))
        try configFile.commit()
        for file in tokenizerFiles {
            let target = folder.appendingPathComponent(file.lastPathComponent)
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(at: file, to: target)
        }
    }
}
