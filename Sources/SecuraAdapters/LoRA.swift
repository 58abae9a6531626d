// LoRA (Hu et al.) with Hugging Face PEFT semantics: y += (α/r)·dropout(x)·Aᵀ·Bᵀ,
// A [R, IC] Kaiming-uniform (bound 1/√IC), B [OC, R] zero.
import SecuraKernels
import SecuraModel
import SecuraTensor

public final class LoRADelta: LinearDelta {
    public let site: LinearSite
    public let inFeatures: Int, outFeatures: Int, rank: Int
    public let scaling: Float
    let dropout: Dropout?
    let context: AdapterContext
    let a, b, dA, dB: UnsafeMutablePointer<Float>
    /// Keeps the flat buffers that `a`, `b`, ... point into alive as long as this delta is attached.
    let storage: TrainableParameters
    // Training forwards save x·Aᵀ in `t`; other forwards (evaluation, EMA copies) use `tEval`.
    private let xd = Scratch(), t = Scratch(), tEval = Scratch(), dt = Scratch()

    /// Trainable tensor names of a site: "<module>.lora_A" [R, IC] and "<module>.lora_B" [OC, R].
    public static func names(_ site: LinearSite) -> (a: String, b: String) {
        let module = ParameterName.layer(site.layer, site.projection.modulePath)
        return (module + ".lora_A", module + ".lora_B")
    }

    /// Floats of the per-site scratch after a training forward + backward and an evaluation forward over
    /// `rows` rows: the dropped-out input [N, IC] (with dropout) and three [N, R] products.
    public static func scratchFloats(rows n: Int, inFeatures: Int, rank: Int, dropout: Bool) -> Int {
        (dropout ? n * inFeatures : 0) + 3 * n * rank
    }

    /// Registers the site's tensors in `layout`.
    public static func register(_ site: LinearSite, inFeatures: Int, outFeatures: Int, rank: Int,
                                in layout: inout ParameterLayout) {
        let n = names(site)
        layout.append(n.a, shape: [rank, inFeatures])
        layout.append(n.b, shape: [outFeatures, rank])
    }

    /// Binds to registered tensors. `alpha / rank` is the scaling; `dropout` 0 disables it.
    public init(site: LinearSite, inFeatures: Int, outFeatures: Int, rank: Int, alpha: Float, dropout: Float,
                parameters: TrainableParameters, context: AdapterContext) {
        self.site = site
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.rank = rank
        scaling = alpha / Float(rank)
        self.dropout = dropout > 0 ? Dropout(rate: dropout, site: site) : nil
        self.context = context
        let n = Self.names(site)
        storage = parameters
        (a, dA) = parameters.tensor(n.a)
        (b, dB) = parameters.tensor(n.b)
    }

    /// PEFT's default initialisation: A ~ U(−1/√IC, 1/√IC) (Kaiming-uniform with a = √5), B = 0.
    public func initialize(_ rng: inout SeededRandom) {
        let bound = 1 / Float(inFeatures).squareRoot()
        for i in 0..<(rank * inFeatures) { a[i] = Float(rng.uniform() * 2 - 1) * bound }
        b.update(repeating: 0, count: outFeatures * rank)
    }

    public func forward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, rows n: Int, training: Bool) {
        var x = input
        if training, let dropout {
            let p = xd.pointer(n * inFeatures)
            dropout.forward(out: p, input: input, rows: n, features: inFeatures, context: context)
            x = UnsafePointer(p)
        }
        let tp = (training ? t : tEval).pointer(n * rank)
        BLAS.sgemm(transB: true, m: n, n: rank, k: inFeatures, a: x, lda: inFeatures, b: a, ldb: inFeatures,
                   c: tp, ldc: rank)
        BLAS.sgemm(transB: true, m: n, n: outFeatures, k: rank, alpha: scaling, a: tp, lda: rank, b: b, ldb: rank,
                   beta: 1, c: out, ldc: outFeatures)
    }

    public func backward(dInput: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, input: UnsafePointer<Float>,
                         rows n: Int) {
        let x = dropout == nil ? input : UnsafePointer(xd.pointer(n * inFeatures))
        let tp = t.pointer(n * rank), dtp = dt.pointer(n * rank)
        // dB += s·dOutᵀ·t ; dt = s·dOut·B ; dA += dtᵀ·x
        BLAS.sgemm(transA: true, m: outFeatures, n: rank, k: n, alpha: scaling, a: dOut, lda: outFeatures,
                   b: tp, ldb: rank, beta: 1, c: dB, ldc: rank)
        BLAS.sgemm(m: n, n: rank, k: outFeatures, alpha: scaling, a: dOut, lda: outFeatures, b: b, ldb: rank,
                   c: dtp, ldc: rank)
        BLAS.sgemm(transA: true, m: rank, n: inFeatures, k: n, a: dtp, lda: rank, b: x, ldb: inFeatures,
                   beta: 1, c: dA, ldc: inFeatures)
        if let dropout {
            let dx = xd.pointer(n * inFeatures)   // x is no longer needed: reuse its storage
            BLAS.sgemm(m: n, n: inFeatures, k: rank, a: dtp, lda: rank, b: a, ldb: inFeatures, c: dx, ldc: inFeatures)
            dropout.backward(dInput: dInput, dOut: dx, rows: n, features: inFeatures, context: context)
        } else {
            BLAS.sgemm(m: n, n: inFeatures, k: rank, a: dtp, lda: rank, b: a, ldb: inFeatures, beta: 1,
                       c: dInput, ldc: inFeatures)
        }
    }

    /// W [OC, IC] += (α/r)·B·A: folds the adapter into a weight (merges, exports).
    public func merge(into w: UnsafeMutablePointer<Float>) {
        BLAS.sgemm(m: outFeatures, n: inFeatures, k: rank, alpha: scaling, a: b, lda: rank, b: a, ldb: inFeatures,
                   beta: 1, c: w, ldc: inFeatures)
    }
}
