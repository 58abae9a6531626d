// SECURA-M2 as a method: CABR-LoRA with a frozen long-term pair; every --fusion-step steps A moves into
// A_L, B is added to B_L and reset (CABRDelta.fuseLongTerm). The original weights never change.
//
// With `--smagnorm merge` (the default) the fusion is damped, because the paper's Algorithm 1 applies
// S-MagNorm before its M1/M2 branch. The damped change ΔW ⊘ M_res (M_res from §1.7's rule with the
// FORMER weight W_F = W + C·A_L·B_L·R in place of W) is not of low rank, so the long-term pair cannot hold
// it exactly; M2 keeps the pair and adds the change scaled by the one factor that approximates the damped
// change best in the Frobenius norm:
//   d = ⟨ΔW, ΔW ⊘ M_res⟩ / ⟨ΔW, ΔW⟩  ∈ [½, 1],   B_L ← B_L + d·B.
// d is computed per matrix over all of its elements (Double sums, rows in order), identically on every
// rank. `--smagnorm off` (or output) fuses undamped, d = 1. docs/DESIGN.md §1.8.
import Foundation
import SecuraDistributed
import SecuraModel
import SecuraTensor

public struct SecuraM2Method: CABRFamilyMethod {
    public init() {}
    public var displayName: String { "SECURA-M2" }
    public var keepsLongTermPair: Bool { true }

    public func merge(_ adapters: AdapterSet, comm: Communicator) throws {
        let s = adapters.settings
        let cabr = adapters.cabr
        for site in cabr.keys.sorted() {
            let delta = cabr[site]!
            let d = s.smagnorm == .merge ? Self.damping(delta, eps: s.smagnormEps, scale: s.smagnormScale) : 1
            delta.fuseLongTerm(damping: d)
        }
    }

    /// The factor d of a damped fusion of `delta`'s current B (1 when the change is zero).
    public static func damping(_ delta: CABRDelta, eps: Float, scale: Float) -> Float {
        let h = delta.outFeatures, d = delta.inFeatures, r = delta.rank
        let product = delta.mergeProduct(), longProduct = delta.longTermProduct()
        let panel = 64
        let former = FloatBuffer(count: panel * d), change = FloatBuffer(count: panel * d)
        func forEachPanel(_ body: (Int) -> Void) {
            var row = 0
            while row < h {
                let rows = min(panel, h - row)
                delta.originalWeight.widen(start: row * d, count: rows * d, into: former.pointer)
                if let longProduct {
                    BLAS.sgemm(m: rows, n: d, k: r, a: delta.c.pointer + row * r, lda: r, b: longProduct.pointer, ldb: d,
                               beta: 1, c: former.pointer, ldc: d)
                }
                SMagNorm.deltaRows(delta: change.pointer, c: delta.c.pointer, product: product.pointer, row0: row,
                                   rows: rows, rank: r, columns: d)
                body(rows * d)
                row += rows
            }
        }
        var mx: Float = 0
        forEachPanel { count in
            mx = max(mx, SMagNorm.localMaximum(weight: former.pointer, delta: change.pointer, count: count, eps: eps))
        }
        var damped = 0.0, total = 0.0
        let inv = 1 / (mx + eps)
        forEachPanel { count in
            for i in 0..<count {
                let w = former.pointer[i], c = change.pointer[i]
                let m = abs((w + c) / (w + eps))
                let res = 2 - 1 / (1 + expf(-(m * inv - 0.5) * scale))
                let c2 = Double(c) * Double(c)
                total += c2
                damped += c2 / Double(res)
            }
        }
        return total > 0 ? Float(damped / total) : 1
    }
}
