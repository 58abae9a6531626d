// CUR-LoRA: ΔW = C·U·R with C, R the lowest-norm columns and rows of the original weight (frozen) and
// only U [r, r] trainable, zero-initialised. Forward ((x·Rᵀ)·Uᵀ)·Cᵀ; export folds W += C·U·R.
import SecuraKernels
import SecuraModel
import SecuraTensor

public final class CURDelta: LinearDelta {
    public let site: LinearSite
    public let inFeatures: Int, outFeatures: Int, rank: Int
    public let c: FloatBuffer, r: FloatBuffer
    public let columnIndices: [Int], rowIndices: [Int]
    let u, dU: UnsafeMutablePointer<Float>
    /// Keeps the flat buffers that `a`, `b`, ... point into alive as long as this delta is attached.
    let storage: TrainableParameters
    private let t1 = Scratch(), t1Eval = Scratch(), t2 = Scratch(), d2 = Scratch(), d1 = Scratch()

    public static func name(_ site: LinearSite) -> String {
        ParameterName.layer(site.layer, site.projection.modulePath) + ".cur_U"
    }

    /// Floats of the per-site scratch after a training forward + backward and an evaluation forward over
    /// `rows` rows: five [N, r] products.
    public static func scratchFloats(rows n: Int, rank: Int) -> Int { 5 * n * rank }

    public static func register(_ site: LinearSite, rank: Int, in layout: inout ParameterLayout) {
        layout.append(name(site), shape: [rank, rank])
    }

    public init(site: LinearSite, weight: WeightView, rank: Int, parameters: TrainableParameters) {
        self.site = site
        outFeatures = weight.shape[0]
        inFeatures = weight.shape[1]
        self.rank = rank
        columnIndices = CURSelection.smallest(CURSelection.columnNorms(weight), count: rank)
        rowIndices = CURSelection.smallest(CURSelection.rowNorms(weight), count: rank)
        c = FloatBuffer(CURSelection.columns(weight, columnIndices))
        r = FloatBuffer(CURSelection.rows(weight, rowIndices))
        storage = parameters
        (u, dU) = parameters.tensor(Self.name(site))
        u.update(repeating: 0, count: rank * rank)
    }

    public func forward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, rows n: Int, training: Bool) {
        let p1 = (training ? t1 : t1Eval).pointer(n * rank), p2 = t2.pointer(n * rank)
        BLAS.sgemm(transB: true, m: n, n: rank, k: inFeatures, a: input, lda: inFeatures, b: r.pointer, ldb: inFeatures,
                   c: p1, ldc: rank)
        BLAS.sgemm(transB: true, m: n, n: rank, k: rank, a: p1, lda: rank, b: u, ldb: rank, c: p2, ldc: rank)
        BLAS.sgemm(transB: true, m: n, n: outFeatures, k: rank, a: p2, lda: rank, b: c.pointer, ldb: rank, beta: 1,
                   c: out, ldc: outFeatures)
    }

    public func backward(dInput: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, input: UnsafePointer<Float>,
                         rows n: Int) {
        let p1 = t1.pointer(n * rank), g2 = d2.pointer(n * rank), g1 = d1.pointer(n * rank)
        BLAS.sgemm(m: n, n: rank, k: outFeatures, a: dOut, lda: outFeatures, b: c.pointer, ldb: rank, c: g2, ldc: rank)
        BLAS.sgemm(transA: true, m: rank, n: rank, k: n, a: g2, lda: rank, b: p1, ldb: rank, beta: 1, c: dU, ldc: rank)
        BLAS.sgemm(m: n, n: rank, k: rank, a: g2, lda: rank, b: u, ldb: rank, c: g1, ldc: rank)
        BLAS.sgemm(m: n, n: inFeatures, k: rank, a: g1, lda: rank, b: r.pointer, ldb: inFeatures, beta: 1,
                   c: dInput, ldc: inFeatures)
    }

    /// W [H, D] += C·U·R, leaving U as it is (export; CUR-LoRA's task-switch fusion is not implemented).
    public func merge(into w: UnsafeMutablePointer<Float>) {
        let ur = FloatBuffer(count: rank * inFeatures)
        BLAS.sgemm(m: rank, n: inFeatures, k: rank, a: u, lda: rank, b: r.pointer, ldb: inFeatures,
                   c: ur.pointer, ldc: inFeatures)
        BLAS.sgemm(m: outFeatures, n: inFeatures, k: rank, a: c.pointer, lda: rank, b: ur.pointer, ldb: inFeatures,
                   beta: 1, c: w, ldc: inFeatures)
    }
}
