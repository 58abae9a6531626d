// `secura-dist bench --limit`: the machine's limit for a training step of a model — the sgemm rate measured
// at the model's own projection shapes (every rank at once under mpirun, so the cores are as busy as in
// training; the fastest of --iterations repetitions per shape), and the step's FLOPs by part (StepFLOPs). The limit is FLOPs / rate: the step time if every
// matrix product ran at sgemm speed and everything else were free.
import ArgumentParser
import Foundation
import SecuraAdapters
import SecuraDistributed
import SecuraModel
import SecuraTensor
import SecuraTrain

struct LimitReport: Encodable {
    let model: String, method: String
    let ranks: Int, threads_per_rank: Int, sequences: Int, tokens: Int, recompute: Bool
    /// sgemm GFLOP/s per shape (forward and input-gradient products, this rank) and summed over ranks.
    let shapes: [String: Double]
    let sgemm_gflops_per_rank: [Double]
    let sgemm_gflops_total: Double
    let flops: StepFLOPs
    let flops_total: Double
    let limit_seconds_per_step: Double
    let limit_tokens_per_second: Double
}

extension Bench {
    /// Measures and prints the limit of a training step of `config` for `sequences` × `tokens` tokens.
    func runLimit(config c: DecoderConfig, name: String, comm: Communicator) throws {
        var settings = MethodSettings()
        if let m = AdapterMethod(rawValue: method) { settings.method = m } else {
            throw ValidationError("--method \(method): not a method (\(AdapterMethod.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        let rows = batch * tokens
        let qDim = c.heads * c.headDim, kvDim = c.kvHeads * c.headDim
        // (label, out, in, matrices per layer or 0 for the head); the head is measured on a slice of its rows
        // (the rate per FLOP does not change past a few thousand rows; a full fp32 128k×4k head is 2 GiB).
        let shapes: [(String, Int, Int)] = [("q/o \(qDim)x\(c.hiddenSize)", qDim, c.hiddenSize),
                                            ("k/v \(kvDim)x\(c.hiddenSize)", kvDim, c.hiddenSize),
                                            ("mlp \(c.intermediateSize)x\(c.hiddenSize)", c.intermediateSize, c.hiddenSize),
                                            ("head \(min(c.vocabSize, 16384))x\(c.hiddenSize)", min(c.vocabSize, 16384), c.hiddenSize)]
        var rng = SeededRandom(seed: 3)
        var rates: [String: Double] = [:]
        var totalFlops = 0.0, totalSeconds = 0.0
        try comm.barrier()
        for (label, out, inF) in shapes {
            let w = FloatBuffer((0..<(out * inF)).map { _ in Float(rng.uniform() - 0.5) * 0.04 })
            let x = FloatBuffer((0..<(rows * max(out, inF))).map { _ in Float(rng.uniform() - 0.5) })
            let y = FloatBuffer(count: rows * max(out, inF))
            func once() {
                BLAS.sgemm(transB: true, m: rows, n: out, k: inF, a: x.pointer, lda: inF, b: w.pointer, ldb: inF, c: y.pointer, ldc: out)
                BLAS.sgemm(m: rows, n: inF, k: out, a: x.pointer, lda: out, b: w.pointer, ldb: inF, c: y.pointer, ldc: inF)
            }
            once()
            // The fastest of the timed repetitions: the rate the machine reaches when nothing disturbs it
            // (a shared machine's interruptions only ever slow a repetition down).
            var seconds = Double.infinity
            for _ in 0..<iterations {
                let start = DispatchTime.now().uptimeNanoseconds
                once()
                seconds = min(seconds, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            }
            let flops = 4.0 * Double(rows * out * inF)
            rates[label] = flops / seconds / 1e9
            totalFlops += flops
            totalSeconds += seconds
        }
        let mine = totalFlops / totalSeconds / 1e9
        let all = try comm.allGather(value: mine)
        let sum = all.reduce(0, +)
        let flops = StepFLOPs(config: c, settings: settings, sequences: batch, length: tokens, recompute: recompute)
        let limitSeconds = flops.total / (sum * 1e9)
        let report = LimitReport(model: name, method: settings.method.rawValue, ranks: comm.size, threads_per_rank: BLAS.threads,
                                 sequences: batch, tokens: tokens, recompute: recompute, shapes: rates,
                                 sgemm_gflops_per_rank: all, sgemm_gflops_total: sum, flops: flops, flops_total: flops.total,
                                 limit_seconds_per_step: limitSeconds,
                                 limit_tokens_per_second: Double(batch * tokens) / limitSeconds)
        let say = RootPrinter(comm: comm)
        if json { say(try jsonLine(report)); return }
        say("sgemm at \(name)'s shapes, \(rows) rows: " + rates.sorted { $0.key < $1.key }
            .map { "\($0.key) " + String(format: "%.1f", $0.value) }.joined(separator: ", ") + " GFLOP/s (rank 0)")
        say(String(format: "sgemm rate: %.1f GFLOP/s over %d rank(s) × %d thread(s)", sum, comm.size, BLAS.threads))
        say(String(format: "step of %d × %d tokens (%@%@): %.2f TFLOP (projections %.2f, head %.2f, attention %.2f, adapters %.3f)",
                   batch, tokens, settings.method.rawValue, recompute ? ", recompute" : "", flops.total / 1e12,
                   flops.projections / 1e12, flops.head / 1e12, flops.attention / 1e12, flops.adapters / 1e12))
        say(String(format: "limit: %.1f s/step, %.2f tokens/s", limitSeconds, report.limit_tokens_per_second))
    }
}
