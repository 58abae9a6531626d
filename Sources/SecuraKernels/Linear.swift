// Linear layer y = x·Wᵀ + b, forward and backward, through sgemm.
//
// Frozen weights may be stored as bf16/f16 (a WeightView into a mapped file); they are widened to fp32
// one panel of rows at a time into a scratch buffer, so a bf16 8B model never exists in fp32 at once.
import SecuraTensor

public enum Linear {
    /// Weight rows widened per panel when the weight is not fp32 (~4 MiB of fp32 per panel).
    nonisolated(unsafe) static var panelElements = 1 << 20

    /// Rows of a non-fp32 weight widened per panel (`panelElements` of fp32, at least one row).
    static func panelRows(_ weight: WeightView, inFeatures: Int) -> Int {
        max(1, min(weight.shape[0], panelElements / max(1, inFeatures)))
    }

    /// Calls `body(rowStart, rowCount, fp32 rows)` over panels of `weight`'s rows.
    static func forEachPanel(_ weight: WeightView, inFeatures: Int,
                             _ body: (Int, Int, UnsafePointer<Float>) -> Void) {
        let rows = weight.shape[0]
        if let f = weight.floatPointer {
            body(0, rows, f)
            return
        }
        let panelRows = panelRows(weight, inFeatures: inFeatures)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: panelRows * inFeatures)
        defer { scratch.deallocate() }
        var start = 0
        while start < rows {
            let count = min(panelRows, rows - start)
            weight.widen(start: start * inFeatures, count: count * inFeatures, into: scratch)
            body(start, count, scratch)
            start += count
        }
    }

    /// The fewest multiply-adds (m·n·k) of one sgemm call in a row block. OpenBLAS 0.3.21 sends products of
    /// at most 100³ to its small-matrix kernels, which add in another order than its blocked kernels: a row
    /// block must stay above that on every call (weight panel) so that splitting changes no bits.
    static let minBlockProduct = 1 << 21

    /// Calls `body(firstRow, rowCount)` over up to `Parallel.threads` equal blocks of the n rows, one task each
    /// with OpenBLAS at one thread (`Parallel.forEachTask`), or once over all rows when there is one thread or
    /// the blocks would be small. Each block is the product a rank of a data-parallel run computes on its share
    /// of the batch (OpenBLAS's own threads instead share one packed weight and wait for each other at every
    /// block of it). OpenBLAS's blocked kernels never split a sum over rows, so an output row's bits do not
    /// depend on the thread count (tested).
    /// - Parameter panelProduct: n·k of the smallest sgemm call per row (the smallest weight panel × IC).
    static func forEachRowBlock(_ n: Int, panelProduct: Int, _ body: (Int, Int) -> Void) {
        let blocks = rowBlocks(n, panelProduct: panelProduct, threads: Parallel.threads)
        guard blocks > 1 else {
            body(0, n)
            return
        }
        let size = (n + blocks - 1) / blocks
        Parallel.forEachTask(blocks) { b in
            let first = b * size
            if first < n { body(first, min(size, n - first)) }
        }
    }

    /// How many row blocks `forEachRowBlock` makes: the most, up to `threads`, whose smallest block keeps every
    /// call above `minBlockProduct`.
    static func rowBlocks(_ n: Int, panelProduct: Int, threads: Int) -> Int {
        var blocks = max(1, min(threads, n))
        while blocks > 1 && (n / blocks) * panelProduct < minBlockProduct { blocks -= 1 }
        return blocks
    }

    /// The smallest panel's rows × IC: the n·k of the smallest sgemm call `forEachPanel` makes per input row.
    static func smallestPanelProduct(_ weight: WeightView, inFeatures ic: Int) -> Int {
        let rows = weight.shape[0]
        guard weight.floatPointer == nil else { return rows * ic }
        let panelRows = panelRows(weight, inFeatures: ic)
        let tail = rows % panelRows
        return (tail == 0 ? panelRows : tail) * ic
    }

    /// out[N, OC] = input[N, IC] · weightᵀ (+ bias).
    /// - Parameters:
    ///   - weight: [OC, IC] in any storage dtype.
    ///   - bias: [OC] or nil.
    ///   - accumulate: when true, adds to `out` instead of overwriting it.
    public static func forward(out: UnsafeMutablePointer<Float>,
                               input: UnsafePointer<Float>,
                               weight: WeightView, bias: UnsafePointer<Float>?,
                               rows n: Int, inFeatures ic: Int, outFeatures oc: Int,
                               accumulate: Bool = false) {
        precondition(weight.shape == [oc, ic], "Linear.forward: weight \(weight.name) is \(weight.shape), expected [\(oc), \(ic)]")
        if n == 1 && MatVec.supports(weight.dtype) {
            // One row (a decode step): dot products read straight from the weight, no packing.
            MatVec.forward(out: out, input: input, weight: weight, accumulate: accumulate)
        } else {
            forEachRowBlock(n, panelProduct: smallestPanelProduct(weight, inFeatures: ic)) { r0, rows in
                forEachPanel(weight, inFeatures: ic) { start, count, w in
                    BLAS.sgemm(transB: true, m: rows, n: count, k: ic,
                               a: input + r0 * ic, lda: ic, b: w, ldb: ic,
                               beta: accumulate ? 1 : 0, c: out + r0 * oc + start, ldc: oc)
                }
            }
        }
        if let bias {
            for r in 0..<n {
                let row = out + r * oc
                for j in 0..<oc { row[j] += bias[j] }
            }
        }
    }

    /// Backward of `forward`.
    /// - Parameters:
    ///   - dInput: [N, IC]; overwritten, or added to when `accumulateInput`. Nil to skip.
    ///   - dWeight: [OC, IC] fp32, accumulated (+=). Nil to skip.
    ///   - dBias: [OC], accumulated (+=). Nil to skip.
    ///   - dOut: [N, OC].
    ///   - input: [N, IC], the forward input.
    public static func backward(dInput: UnsafeMutablePointer<Float>?,
                                dWeight: UnsafeMutablePointer<Float>?,
                                dBias: UnsafeMutablePointer<Float>?,
                                dOut: UnsafePointer<Float>,
                                input: UnsafePointer<Float>,
                                weight: WeightView,
                                rows n: Int, inFeatures ic: Int, outFeatures oc: Int,
                                accumulateInput: Bool = false) {
        if let dInput {
            forEachRowBlock(n, panelProduct: smallestPanelProduct(weight, inFeatures: ic)) { r0, rows in
                var first = true
                forEachPanel(weight, inFeatures: ic) { start, count, w in
                    // dInput[rows, IC] (+)= dOut[rows, start..<start+count] · W[start..<start+count, :]
                    BLAS.sgemm(m: rows, n: ic, k: count,
                               a: dOut + r0 * oc + start, lda: oc, b: w, ldb: ic,
                               beta: (accumulateInput || !first) ? 1 : 0, c: dInput + r0 * ic, ldc: ic)
                    first = false
                }
            }
        }
        if let dWeight {
            // dW[OC, IC] += dOutᵀ[OC, N] · input[N, IC]
            BLAS.sgemm(transA: true, m: oc, n: ic, k: n,
                       a: dOut, lda: oc, b: input, ldb: ic,
                       beta: 1, c: dWeight, ldc: ic)
        }
        if let dBias {
            for r in 0..<n {
                let row = dOut + r * oc
                for j in 0..<oc { dBias[j] += row[j] }
            }
        }
    }
}
