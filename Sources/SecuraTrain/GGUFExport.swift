// `export --format gguf`: the merged model (every adapted weight W + ΔW exactly as `MergedExport`
// computes it) as one GGUF file laid out the way llama.cpp's convert_hf_to_gguf.py lays it out, so that
// llama.cpp, transformers' GGUF loader and `GGUFModel` read it:
// - names: llama.cpp's (`token_embd`, `blk.N.attn_q`, ..., `output_norm`, `output`; GGUFTensorNames);
// - Llama q/k weights and biases: rows permuted per head for interleaved RoPE (GGUF row h·D + 2i + j
//   holds Hugging Face row h·D + j·D/2 + i), the inverse of what GGUFModel undoes when reading;
// - Gemma2: every norm weight stored as 1 + w (llama.cpp's norm multiplies by the weight itself);
// - types: 1-D tensors (norms, biases, rope_freqs) F32 as the converter keeps them; matrices F16, BF16,
//   Q8_0 or F32; a matrix whose rows are not whole Q8_0 blocks of 32 falls back to F16, as the
//   converter does;
// - llama3 RoPE: no metadata but the `rope_freqs.weight` divisors, as the converter writes them.
// Tensors are produced one at a time while the file is written (a merged weight costs one fp32 copy,
// an untouched one a chunk of rows; a safetensors input's pages are released after each tensor), so an
// 8B model never needs all its weights in memory. (A quantised GGUF base is dequantised whole when the
// adapters bind the decoder, as for every command.)
import Foundation
import SecuraAdapters
import SecuraIO
import SecuraModel
import SecuraTensor

public enum GGUFExport {
    /// The storage type of the exported matrices.
    public enum Precision: String, Sendable, CaseIterable {
        case f32, f16, bf16, q8_0

        /// The ggml type of a matrix whose rows have `rowLength` values.
        public func matrixType(rowLength: Int) -> GGMLType {
            switch self {
            case .f32: return .f32
            case .f16: return .f16
            case .bf16: return .bf16
            case .q8_0: return rowLength % GGMLType.q8_0.blockSize == 0 ? .q8_0 : .f16
            }
        }

        /// llama.cpp's `general.file_type` (LLAMA_FTYPE_ALL_F32, MOSTLY_F16, MOSTLY_Q8_0, MOSTLY_BF16).
        var fileType: UInt32 {
            switch self {
            case .f32: return 0
            case .f16: return 1
            case .q8_0: return 7
            case .bf16: return 32
            }
        }
    }

    /// The ggml type of a tensor of row-major `shape`: F32 for 1-D tensors, else the precision's.
    public static func tensorType(shape: [Int], precision: Precision) -> GGMLType {
        shape.count <= 1 ? .f32 : precision.matrixType(rowLength: shape.last ?? 1)
    }

    /// Writes the merged model to the GGUF file `path` (atomically).
    /// - Parameters:
    ///   - tensorNames: the Hugging Face names of every tensor to write (the base's model tensors).
    ///   - tokenizer: the `tokenizer.*` keys (`GGUFExport.tokenizerMetadata`); empty writes
    ///     `tokenizer.ggml.model = "none"`, llama.cpp's marker for a model without a vocabulary.
    ///   - name: `general.name`.
    ///   - current: a merge target's current fp32 weight when `adapters` does not hold it in memory.
    ///   - progress: called after each tensor (`shard` counts tensors, `file` is the GGUF tensor name).
    /// - Throws: for an IMSM run, a tensor without a GGUF name, or as `GGUFWriter.write`.
    public static func write(_ adapters: AdapterSet, base: WeightSource, config: DecoderConfig, raw: ModelConfig,
                             tensorNames: [String], tokenizer: [(key: String, value: GGUFValue)], name: String,
                             to path: String, precision: Precision,
                             current: @escaping (LinearSite) throws -> [Float]? = { _ in nil },
                             progress: @escaping (ExportProgress) -> Void = { _ in }) throws {
        guard adapters.settings.imsm == nil else { throw MethodError.imsmHasNoSingleModelForm(format: "a GGUF model") }
        var writer = GGUFWriter(path: path)
        for (key, value) in metadata(config: config, raw: raw, name: name, precision: precision) { writer.set(key, value) }
        if tokenizer.isEmpty { writer.set("tokenizer.ggml.model", .string("none")) }
        for (key, value) in tokenizer { writer.set(key, value) }

        let sites = Dictionary(uniqueKeysWithValues: adapters.plans.map { ($0.site.weightName, $0.site) })
        let biases = try MergedExport.biasSites(adapters, tensorNames: tensorNames)
        var sourceNames: [String: String] = [:]
        for hfName in tensorNames {
            guard let ggufName = GGUFTensorNames.gguf(hfName, architecture: config.architecture) else {
                throw GGUFExportError.noGGUFName(source: base.sourceDescription, tensor: hfName)
            }
            sourceNames[ggufName] = hfName
            let shape = try base.view(hfName).shape
            let type = tensorType(shape: shape, precision: precision)
            let heads = permutedHeads(ggufName, config: config)
            let isGemmaNorm = config.architecture == .gemma2 && hfName.hasSuffix("norm.weight")
            if sites[hfName] == nil && biases[hfName] == nil && heads == nil && !isGemmaNorm {
                // Untouched: converted chunk by chunk straight from the (mapped) view.
                try writer.add(ggufName, shape: shape, type: type) { rows, out in
                    let view = try base.view(hfName)
                    let rowLength = shape.last ?? 1
                    view.widen(start: rows.lowerBound * rowLength, count: rows.count * rowLength, into: out)
                }
                continue
            }
            let lazy = LazyValues {
                var values: [Float]
                if let site = sites[hfName] {
                    values = try MergedExport.mergedWeight(adapters, site: site, original: try base.view(hfName),
                                                           current: try current(site))
                } else if let site = biases[hfName] {
                    values = MergedExport.mergedBias(adapters, site: site, original: try base.view(hfName))
                } else {
                    values = try base.view(hfName).toFloatArray()
                }
                if isGemmaNorm { values = values.map { $0 + 1 } }
                if let heads { values = permuteForInterleavedRoPE(values, units: shape[0], heads: heads) }
                return values
            }
            let rowLength = shape.last ?? 1, rowCount = shape.count <= 1 ? 1 : shape.reduce(1, *) / rowLength
            try writer.add(ggufName, shape: shape, type: type) { rows, out in
                try lazy.copy(rows.lowerBound * rowLength, count: rows.count * rowLength, into: out,
                              last: rows.upperBound == rowCount)
            }
        }
        if case let .llama3(factor, low, high, original) = config.ropeScaling {
            let factors = llama3RopeFactors(headDim: config.headDim, theta: config.ropeTheta, factor: factor,
                                            low: low, high: high, original: original)
            try writer.add("rope_freqs.weight", floats: factors, shape: [factors.count], type: .f32)
        }

        let total = writer.dataByteCount, count = writer.tensorCount
        let start = DispatchTime.now().uptimeNanoseconds
        var done = 0
        let files = base as? SafeTensorsModel
        writer.afterEachTensor = { tensor, written in
            // The input's pages leave the resident set once converted (a re-read faults them back in).
            if let files, let name = sourceNames[tensor] { files.releaseResidentPages(of: name) }
            done += 1
            progress(ExportProgress(shard: done, shards: count, file: tensor, bytesWritten: written, totalBytes: total,
                                    seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
        }
        try writer.write()
    }

    /// The head count whose RoPE permutation a Llama q/k tensor gets, nil for every other tensor.
    static func permutedHeads(_ ggufName: String, config: DecoderConfig) -> Int? {
        guard config.architecture == .llama else { return nil }
        let parts = ggufName.split(separator: ".")
        guard parts.count == 4, parts[0] == "blk" else { return nil }
        switch parts[2] {
        case "attn_q": return config.heads
        case "attn_k": return config.kvHeads
        default: return nil
        }
    }

    /// Hugging Face row order to llama.cpp's interleaved-RoPE order: output unit h·D + 2i + j is input
    /// unit h·D + j·D/2 + i, D = units / heads; a unit is a row of a weight or an element of a bias.
    /// - Precondition: `units` is `heads` × an even number and divides `values.count`.
    public static func permuteForInterleavedRoPE(_ values: [Float], units: Int, heads: Int) -> [Float] {
        precondition(heads > 0 && units % heads == 0 && (units / heads) % 2 == 0 && values.count % units == 0,
                     "\(units) units are not \(heads) heads of an even size")
        let width = values.count / units, d = units / heads, half = d / 2
        var out = [Float](repeating: 0, count: values.count)
        for r in 0..<units {
            let (h, w) = r.quotientAndRemainder(dividingBy: d)
            let (i, j) = w.quotientAndRemainder(dividingBy: 2)
            let source = (h * d + j * half + i) * width
            out.replaceSubrange(r * width..<(r + 1) * width, with: values[source..<(source + width)])
        }
        return out
    }

    /// The divisors of the D/2 rotary frequencies under llama3 scaling, as the converter computes them:
    /// 1 for wavelengths below original/high, `factor` above original/low, 1/((1 − s)/factor + s) between.
    public static func llama3RopeFactors(headDim: Int, theta: Double, factor: Double, low: Double, high: Double,
                                         original: Double) -> [Float] {
        (0..<(headDim / 2)).map { i in
            let wavelength = 2 * Double.pi * pow(theta, Double(2 * i) / Double(headDim))
            if wavelength < original / high { return 1 }
            if wavelength > original / low { return Float(factor) }
            let smooth = (original / wavelength - low) / (high - low)
            return Float(1 / ((1 - smooth) / factor + smooth))
        }
    }
}

/// A tensor's fp32 values computed on first use and dropped after the last rows are copied out, so a
/// merged weight occupies memory only while it is being written.
private final class LazyValues {
    private let make: () throws -> [Float]
    private var values: [Float]?

    init(_ make: @escaping () throws -> [Float]) { self.make = make }

    func copy(_ start: Int, count: Int, into out: UnsafeMutablePointer<Float>, last: Bool) throws {
        if values == nil { values = try make() }
        values!.withUnsafeBufferPointer { out.update(from: $0.baseAddress! + start, count: count) }
        if last { values = nil }
    }
}
