// SECURA-M1 as a method: CABR-LoRA whose change is folded into fp32 master copies of the weights every
// --fusion-step steps, damped by S-MagNorm (one MAX all-reduce for every matrix's maximum), then B ← 0.
// The masters are node-shared (MasterWeights.swift); this file is their merge driver.
import SecuraDistributed
import SecuraModel
import SecuraTensor

public struct SecuraM1Method: CABRFamilyMethod {
    public init() {}
    public var displayName: String { "SECURA-M1" }
    public var keepsLongTermPair: Bool { false }
    public var mergesIntoMasters: Bool { true }

    public func merge(_ adapters: AdapterSet, comm: Communicator) throws {
        try Self.merge(adapters, comm: comm)
    }

    /// W ← W + ΔW ⊘ M_res for every adapted matrix (or W += ΔW with S-MagNorm off), B ← 0.
    /// Two passes over the rows (maxima, then apply) so no full ΔW is ever held per matrix.
    ///
    /// The master weights are node-shared: each rank of a node merges only its row shard (whole panels
    /// of `masterPanelRows` rows), the per-matrix maxima of all shards meet in ONE MAX all-reduce over
    /// every rank (nodes hold identical weights, so that is the maximum over the whole matrix), and a
    /// node barrier ends the merge. Callers must have passed a collective since the last forward that
    /// read the weights (the gradient all-reduce does that), so no rank still reads a row being written.
    public static func merge(_ adapters: AdapterSet, comm: Communicator) throws {
        let s = adapters.settings
        let cabr = adapters.cabr
        let sites = cabr.keys.sorted()
        let products = sites.map { cabr[$0]!.mergeProduct() }
        let rowsPerPanel = masterPanelRows
        func forEachPanel(_ i: Int, _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) {
            let delta = cabr[sites[i]]!, w = adapters.masters[sites[i]]!
            let h = delta.outFeatures, d = delta.inFeatures
            let scratch = FloatBuffer(count: rowsPerPanel * d)
            let shard = comm.nodeShard(rows: h, panel: rowsPerPanel)
            var row = shard.lowerBound
            while row < shard.upperBound {
                let rows = min(rowsPerPanel, shard.upperBound - row)
                SMagNorm.deltaRows(delta: scratch.pointer, c: delta.c.pointer, product: products[i].pointer,
                                   row0: row, rows: rows, rank: delta.rank, columns: d)
                body(w.pointer + row * d, scratch.pointer, rows * d)
                row += rows
            }
        }
        var maxima = [Float](repeating: 0, count: sites.count)
        if s.smagnorm == .merge {
            for i in sites.indices {
                forEachPanel(i) { w, delta, count in
                    maxima[i] = max(maxima[i], SMagNorm.localMaximum(weight: w, delta: delta, count: count, eps: s.smagnormEps))
                }
            }
            try comm.allReduceMax(&maxima)
        }
        for i in sites.indices {
            forEachPanel(i) { w, delta, count in
                if s.smagnorm == .merge {
                    SMagNorm.apply(weight: w, delta: delta, count: count, globalMaximum: maxima[i], eps: s.smagnormEps,
                                   scale: s.smagnormScale)
                } else {
                    BLAS.axpy(n: count, alpha: 1, x: delta, y: w)
                }
                if s.mergePrecision == .bf16 { SMagNorm.roundToBF16(w, count: count) }
            }
            cabr[sites[i]]!.resetB()
        }
        try comm.nodeBarrier()
    }
}
