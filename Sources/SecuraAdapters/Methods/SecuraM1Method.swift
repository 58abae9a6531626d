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
        // This rank's row shard of every matrix, in whole panels of `masterPanelRows` rows.
        let panels: [[Range<Int>]] = sites.map { site in
            let shard = comm.nodeShard(rows: cabr[site]!.outFeatures, panel: masterPanelRows)
            return stride(from: shard.lowerBound, to: shard.upperBound, by: masterPanelRows).map {
                $0..<min($0 + masterPanelRows, shard.upperBound)
            }
        }
        // The maxima pass's ΔW panels are kept for the apply pass when this rank's shard of them fits the
        // budget (SmolLM2: 53 MB per node) instead of multiplied out a second time: the same product either
        // way, so the same weights.
        let shardFloats = sites.indices.reduce(0) { total, i in
            total + panels[i].reduce(0) { $0 + $1.count } * cabr[sites[i]]!.inFeatures
        }
        let keep = keptDeltaFloats(shardFloats: shardFloats, smagnorm: s.smagnorm, budget: keptBudget) > 0
        var kept: [[FloatBuffer]] = sites.map { _ in [] }
        /// Calls `body(W rows, ΔW rows, count)` over the panels of matrix `i`; ΔW from the kept panels when
        /// the maxima pass left them, multiplied out otherwise (and kept when `keeping`).
        func forEachPanel(_ i: Int, keeping: Bool = false,
                          _ body: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) {
            let delta = cabr[sites[i]]!, w = adapters.masters[sites[i]]!, d = delta.inFeatures
            let reading = !kept[i].isEmpty
            let scratch = keeping || reading ? nil : FloatBuffer(count: masterPanelRows * d)
            for (j, rows) in panels[i].enumerated() {
                let buffer = reading ? kept[i][j] : scratch ?? FloatBuffer(count: rows.count * d)
                if !reading {
                    SMagNorm.deltaRows(delta: buffer.pointer, c: delta.c.pointer, product: products[i].pointer,
                                       row0: rows.lowerBound, rows: rows.count, rank: delta.rank, columns: d)
                    if keeping { kept[i].append(buffer) }
                }
                body(w.pointer + rows.lowerBound * d, buffer.pointer, rows.count * d)
            }
        }
        var maxima = [Float](repeating: 0, count: sites.count)
        if s.smagnorm == .merge {
            for i in sites.indices {
                forEachPanel(i, keeping: keep) { w, delta, count in
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
