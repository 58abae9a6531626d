// SECURA-M1 as a method: CABR-LoRA whose change is folded into fp32 master copies of the weights every
// --fusion-step steps, damped by S-MagNorm (one MAX all-reduce for every matrix's maximum), then B ← 0.
// The masters are node-shared (MasterWeights.swift); this file is their merge driver.
import SecuraDistributed
import SecuraModel
import SecuraTensor

public struct SecuraM1Method: CABRFamilyMethod {
    public init() {}

    /// Floats of ΔW panels a rank keeps between the merge's two passes (64 M floats, 256 MB); a larger
    /// shard multiplies its panels out twice.
    public static let keptDeltaBudget = 64 << 20

    /// Floats a rank keeps between the merge's passes for a shard of `shardFloats` ΔW values (the memory
    /// plan counts them).
    public static func keptDeltaFloats(shardFloats: Int, smagnorm: SMagNormMode, budget: Int = keptDeltaBudget) -> Int {
        smagnorm == .merge && shardFloats <= budget ? shardFloats : 0
    }
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
    /// - Parameter keptBudget: the most ΔW floats kept between the passes (tests pass 0 to force the
    ///   second multiplication).
    public static func merge(_ adapters: AdapterSet, comm: Communicator, keptBudget: Int = keptDeltaBudget) throws {
        let s = adapters.settings
        let cabr = adapters.cabr
        let sites = cabr.keys.sorted()
        let products = sites.map { cabr[$0]!.mergeProduct() }
        let rowsPerPanel = masterPanelRows
        // The maxima pass's ΔW panels are kept for the apply pass when this rank's shard of them fits the
        // budget (SmolLM2: 53 MB per node), instead of multiplied out a second time; the same product
        // either way, so the same weights.
        let shardFloats = sites.reduce(0) { total, site in
            let delta = cabr[site]!
            return total + comm.nodeShard(rows: delta.outFeatures, panel: rowsPerPanel).count * delta.inFeatures
        }
        var kept: [[FloatBuffer]]? = keptDeltaFloats(shardFloats: shardFloats, smagnorm: s.smagnorm, budget: keptBudget) > 0 ? [] : nil
        func forEachPanel(_ i: Int, _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) {
            let delta = cabr[sites[i]]!, w = adapters.masters[sites[i]]!
            let h = delta.outFeatures, d = delta.inFeatures
            let shard = comm.nodeShard(rows: h, panel: rowsPerPanel)
            let keeping = kept != nil && kept!.count == i, reading = kept != nil && kept!.count > i
            if keeping { kept!.append([]) }
            let scratch = keeping || reading ? nil : FloatBuffer(count: rowsPerPanel * d)
            var row = shard.lowerBound, panel = 0
            while row < shard.upperBound {
                let rows = min(rowsPerPanel, shard.upperBound - row)
                let buffer: FloatBuffer
                if reading {
                    buffer = kept![i][panel]
                } else {
                    buffer = scratch ?? FloatBuffer(count: rows * d)
                    SMagNorm.deltaRows(delta: buffer.pointer, c: delta.c.pointer, product: products[i].pointer,
                                       row0: row, rows: rows, rank: delta.rank, columns: d)
                    if keeping { kept![i].append(buffer) }
                }
                body(w.pointer + row * d, buffer.pointer, rows * d)
                row += rows
                panel += 1
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
