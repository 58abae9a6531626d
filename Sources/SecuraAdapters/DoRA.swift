// DoRA (weight-decomposed LoRA) with Hugging Face PEFT's semantics for a Linear layer:
//   n_j     = ‖W_j + s·(B·A)_j‖  over each output row j, DETACHED (no gradient flows through it)
//   scale_j = m_j / n_j
//   y      += (scale − 1) ⊙ (x_d·Wᵀ) + scale ⊙ s·(x_d·Aᵀ·Bᵀ)
// with x_d = dropout(x) and s = α/r. The magnitude m [OC] starts at n (so the model is unchanged).
import Foundation
import SecuraKernels
import SecuraModel
import SecuraTensor

public final class DoRADelta: LinearDelta {
    public let lora: LoRADelta
    let weight: WeightView
    /// The trainable magnitude m [OC] and its gradient (views into the flat buffers).
    public let magnitude, dMagnitude: UnsafeMutablePointer<Float>
    let dropout: Dropout?
    let context: AdapterContext
    private let xd = Scratch(), base = Scratch(), low = Scratch(), t = Scratch(), dLow = Scratch(), dx = Scratch()
    private let norms = Scratch(), panel = Scratch()

    public static func magnitudeName(_ site: LinearSite) -> String {
        ParameterName.layer(site.layer, site.projection.modulePath) + ".lora_magnitude_vector"
    }

    /// Floats of the per-site scratch after a training forward + backward and an evaluation forward over
    /// `rows` rows: x_d and dx [N, IC], the base and low-rank outputs and their gradient [N, OC], t [N, R],
    /// and the row-norm panel (about 2²⁰ floats).
    public static func scratchFloats(rows n: Int, inFeatures d: Int, outFeatures h: Int, rank r: Int, dropout: Bool) -> Int {
        let panelRows = max(1, min(h, (1 << 20) / d))
        return (dropout ? n * d : 0) + n * d + 2 * n * h + n * max(h, r) + n * r + h + panelRows * d
    }

    public static func register(_ site: LinearSite, inFeatures: Int, outFeatures: Int, rank: Int,
                                in layout: inout ParameterLayout) {
        LoRADelta.register(site, inFeatures: inFeatures, outFeatures: outFeatures, rank: rank, in: &layout)
        layout.append(magnitudeName(site), shape: [outFeatures])
    }

    public init(site: LinearSite, weight: WeightView, rank: Int, alpha: Float, dropout: Float,
                parameters: TrainableParameters, context: AdapterContext) {
        lora = LoRADelta(site: site, inFeatures: weight.shape[1], outFeatures: weight.shape[0], rank: rank,
                         alpha: alpha, dropout: 0, parameters: parameters, context: context)
        self.weight = weight
        self.dropout = dropout > 0 ? Dropout(rate: dropout, site: site) : nil
        self.context = context
        (magnitude, dMagnitude) = parameters.tensor(Self.magnitudeName(site))
    }

    /// W [OC, IC] ← (m / ‖W + s·B·A‖) ⊙ (W + s·B·A), row by row (export; the adapter is unchanged).
    public func merge(into p: UnsafeMutablePointer<Float>) {
        let h = outFeatures, d = inFeatures
        lora.merge(into: p)
        for j in 0..<h {
            var ss = 0.0
            for i in 0..<d { ss += Double(p[j * d + i]) * Double(p[j * d + i]) }
            let scale = magnitude[j] / Float(ss.squareRoot())
            for i in 0..<d { p[j * d + i] *= scale }
        }
    }

    var inFeatures: Int { lora.inFeatures }
    var outFeatures: Int { lora.outFeatures }

    /// LoRA's initialisation, then m = ‖W + s·B·A‖ row-wise.
    public func initialize(_ rng: inout SeededRandom) {
        lora.initialize(&rng)
        resetMagnitude()
    }

    /// m ← the current row norms of W + s·B·A (PEFT does this whenever A/B are set from outside).
    public func resetMagnitude() {
        let n = rowNorms()
        magnitude.update(from: n, count: outFeatures)
    }

    /// ‖W_j + s·(B·A)_j‖ for every output row j, a panel of rows at a time.
    func rowNorms() -> UnsafeMutablePointer<Float> {
        let h = outFeatures, d = inFeatures
        let out = norms.pointer(h)
        let rowsPerPanel = max(1, min(h, (1 << 20) / d))
        let p = panel.pointer(rowsPerPanel * d)
        var start = 0
        while start < h {
            let count = min(rowsPerPanel, h - start)
            weight.widen(start: start * d, count: count * d, into: p)
            BLAS.sgemm(m: count, n: d, k: lora.rank, alpha: lora.scaling, a: lora.b + start * lora.rank,
                       lda: lora.rank, b: lora.a, ldb: d, beta: 1, c: p, ldc: d)
            for j in 0..<count {
                var s: Double = 0
                for i in 0..<d { s += Double(p[j * d + i]) * Double(p[j * d + i]) }
                out[start + j] = Float(s.squareRoot())
            }
            start += count
        }
        return out
    }

    public func forward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, rows n: Int, training: Bool) {
        let h = outFeatures, d = inFeatures, r = lora.rank, s = lora.scaling
        var x = input
        if training, let dropout {
            let p = xd.pointer(n * d)
            dropout.forward(out: p, input: input, rows: n, features: d, context: context)
            x = UnsafePointer(p)
        }
        let norm = rowNorms()
        let baseP = base.pointer(n * h), lowP = low.pointer(n * h), tP = t.pointer(n * r)
        Linear.forward(out: baseP, input: x, weight: weight, bias: nil, rows: n, inFeatures: d, outFeatures: h)
        BLAS.sgemm(transB: true, m: n, n: r, k: d, a: x, lda: d, b: lora.a, ldb: d, c: tP, ldc: r)
        BLAS.sgemm(transB: true, m: n, n: h, k: r, alpha: s, a: tP, lda: r, b: lora.b, ldb: r, c: lowP, ldc: h)
        for row in 0..<n {
            for j in 0..<h {
                let scale = magnitude[j] / norm[j]
                out[row * h + j] += (scale - 1) * baseP[row * h + j] + scale * lowP[row * h + j]
            }
        }
    }

    public func backward(dInput: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, input: UnsafePointer<Float>,
                         rows n: Int) {
        let h = outFeatures, d = inFeatures, r = lora.rank, s = lora.scaling
        let x = dropout == nil ? input : UnsafePointer(xd.pointer(n * d))
        let norm = rowNorms()   // A and B have not changed since the forward pass
        let baseP = base.pointer(n * h), lowP = low.pointer(n * h), tP = t.pointer(n * r)
        let g = dLow.pointer(n * h)
        // dm_j += Σ_rows dOut·(base + low)/n_j ; the low-rank path sees dOut·scale·s, the base path dOut·(scale − 1).
        for j in 0..<h {
            var acc: Float = 0
            for row in 0..<n { acc += dOut[row * h + j] * (baseP[row * h + j] + lowP[row * h + j]) }
            dMagnitude[j] += acc / norm[j]
        }
        for row in 0..<n {
            for j in 0..<h { g[row * h + j] = dOut[row * h + j] * (magnitude[j] / norm[j]) }
        }
        // Low-rank path with upstream g·s: dB += s·gᵀ·t ; dt = s·g·B ; dA += dtᵀ·x ; dx = dt·A
        let dt = low.pointer(n * max(h, r))   // low-rank output is no longer needed
        BLAS.sgemm(transA: true, m: h, n: r, k: n, alpha: s, a: g, lda: h, b: tP, ldb: r, beta: 1, c: lora.dB, ldc: r)
        BLAS.sgemm(m: n, n: r, k: h, alpha: s, a: g, lda: h, b: lora.b, ldb: r, c: dt, ldc: r)
        BLAS.sgemm(transA: true, m: r, n: d, k: n, a: dt, lda: r, b: x, ldb: d, beta: 1, c: lora.dA, ldc: d)
        let dxP = dx.pointer(n * d)
        BLAS.sgemm(m: n, n: d, k: r, a: dt, lda: r, b: lora.a, ldb: d, c: dxP, ldc: d)
        // Base path: dx += (dOut ⊙ (scale − 1))·W
        for row in 0..<n {
            for j in 0..<h { g[row * h + j] -= dOut[row * h + j] }
        }
        Linear.backward(dInput: dxP, dWeight: nil, dBias: nil, dOut: g, input: x, weight: weight, rows: n,
                        inFeatures: d, outFeatures: h, accumulateInput: true)
        if let dropout {
            dropout.backward(dInput: dInput, dOut: dxP, rows: n, features: d, context: context)
        } else {
            BLAS.axpy(n: n * d, alpha: 1, x: dxP, y: dInput)
        }
    }
}
