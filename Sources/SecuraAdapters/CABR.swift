// CABR-LoRA, the adapter of SECURA: ΔW = C·A·B·R with C [H, r] and R [r, D] the lowest-norm columns and
// rows of the original weight (frozen copies), A [r, m] and B [m, r] trainable. The forward pass is a
// chain of thin products, (((x·Rᵀ)·Bᵀ)·Aᵀ)·Cᵀ, never an H×D matrix. SECURA-M2 adds a frozen long-term
// pair: x·Rᵀ·(A_L·B_L + A·B)ᵀ·Cᵀ. `--delta-bias` adds the authors' trainable b_Δ [H] to the delta's output
// (zero at the start, never merged into W, never reset).
import SecuraKernels
import SecuraModel
import SecuraTensor

public final class CABRDelta: LinearDelta {
    public let site: LinearSite
    public let inFeatures: Int, outFeatures: Int
    /// r (rows of A, columns of C) and m (columns of A).
    public let rank: Int, innerRank: Int
    /// Frozen pieces: C [H, r], R [r, D], and the selected column and row indices of W.
    public let c: FloatBuffer, r: FloatBuffer
    public let columnIndices: [Int], rowIndices: [Int]
    /// The original W [H, D] that C and R were taken from (SECURA-M2's damped fusion reads it).
    public let originalWeight: WeightView
    /// SECURA-M2's frozen long-term pair A_L [r, m], B_L [m, r]; nil otherwise.
    public let longA: FloatBuffer?, longB: FloatBuffer?
    let a, b, dA, dB: UnsafeMutablePointer<Float>
    /// b_Δ [H] and its gradient (`--delta-bias`), or nil.
    let bias, dBias: UnsafeMutablePointer<Float>?
    /// Whether `forward`/`backward` include the long-term pair (SECURA-M2). The output rule turns this off
    /// and runs the pair as part of the former weight instead (`longTermPath`).
    public var includesLongTerm = true
    /// Keeps the flat buffers that `a`, `b`, ... point into alive as long as this delta is attached.
    let storage: TrainableParameters
    private let t1 = Scratch(), t2 = Scratch(), t1Eval = Scratch(), t2Eval = Scratch()
    private let t3 = Scratch(), d3 = Scratch(), d2 = Scratch(), d1 = Scratch(), tmp = Scratch()
    private let l1 = Scratch(), l2 = Scratch(), l3 = Scratch()

    public static func names(_ site: LinearSite) -> (a: String, b: String) {
        let module = ParameterName.layer(site.layer, site.projection.modulePath)
        return (module + ".cabr_A", module + ".cabr_B")
    }

    /// Name of b_Δ in the flat buffer ("model.layers.3.self_attn.q_proj.cabr_bias").
    public static func biasName(_ site: LinearSite) -> String {
        ParameterName.layer(site.layer, site.projection.modulePath) + ".cabr_bias"
    }

    /// Floats of the per-site scratch after a training forward + backward and an evaluation forward over
    /// `rows` rows: five [N, r] and three [N, m] products (four with SECURA-M2's long-term pair, and two
    /// [N, r] and one [N, m] more when the pair runs as its own path under the output rule).
    public static func scratchFloats(rows n: Int, rank r: Int, innerRank m: Int, longTerm: Bool,
                                     separateLongTerm: Bool = false) -> Int {
        5 * n * r + (longTerm ? 4 : 3) * n * m + (longTerm && separateLongTerm ? 2 * n * r + n * m : 0)
    }

    /// A [r, m], B [m, r] and, with `deltaBias`, b_Δ [H] (`outFeatures`).
    public static func register(_ site: LinearSite, rank: Int, innerRank: Int, deltaBias: Bool = false,
                                outFeatures: Int = 0, in layout: inout ParameterLayout) {
        let n = names(site)
        layout.append(n.a, shape: [rank, innerRank])
        layout.append(n.b, shape: [innerRank, rank])
        if deltaBias { layout.append(biasName(site), shape: [outFeatures]) }
    }

    /// Selects C and R from `weight` (the original W [H, D]) and binds A and B. A is left for
    /// `CABRInit` to fill; B starts at zero.
    /// - Parameter scaleFree: `--cabr-scale unit`: C's columns and R's rows scaled to unit L2 norm (an
    ///   exactly zero one is kept), so that ΔW no longer grows with the weights' scale through C and R
    ///   (the caller divides A by the weight's RMS, `CABRLoRAMethod`).
    public init(site: LinearSite, weight: WeightView, rank: Int, innerRank: Int, longTerm: Bool,
                parameters: TrainableParameters, scaleFree: Bool = false) {
        self.site = site
        originalWeight = weight
        outFeatures = weight.shape[0]
        inFeatures = weight.shape[1]
        self.rank = rank
        self.innerRank = innerRank
        columnIndices = CURSelection.smallest(CURSelection.columnNorms(weight), count: rank)
        rowIndices = CURSelection.smallest(CURSelection.rowNorms(weight), count: rank)
        var cValues = CURSelection.columns(weight, columnIndices), rValues = CURSelection.rows(weight, rowIndices)
        if scaleFree {
            let (h, d) = (weight.shape[0], weight.shape[1])
            for k in 0..<rank {
                var sc = 0.0, sr = 0.0
                for i in 0..<h { sc += Double(cValues[i * rank + k]) * Double(cValues[i * rank + k]) }
                for j in 0..<d { sr += Double(rValues[k * d + j]) * Double(rValues[k * d + j]) }
                if sc > 0 { for i in 0..<h { cValues[i * rank + k] = Float(Double(cValues[i * rank + k]) / sc.squareRoot()) } }
                if sr > 0 { for j in 0..<d { rValues[k * d + j] = Float(Double(rValues[k * d + j]) / sr.squareRoot()) } }
            }
        }
        c = FloatBuffer(cValues)
        r = FloatBuffer(rValues)
        let n = Self.names(site)
        storage = parameters
        (a, dA) = parameters.tensor(n.a)
        (b, dB) = parameters.tensor(n.b)
        b.update(repeating: 0, count: innerRank * rank)
        if parameters.layout.entry(Self.biasName(site)) != nil {
            let (v, g) = parameters.tensor(Self.biasName(site))
            v.update(repeating: 0, count: outFeatures)
            (bias, dBias) = (v, g)
        } else {
            (bias, dBias) = (nil, nil)
        }
        longA = longTerm ? FloatBuffer(count: rank * innerRank) : nil
        longB = longTerm ? FloatBuffer(count: innerRank * rank) : nil
    }

    /// Sets A (and, for SECURA-M2, A_L) to `initial` [r, m].
    public func setInitialA(_ initial: [Float]) {
        precondition(initial.count == rank * innerRank)
        a.update(from: initial, count: initial.count)
        longA?.pointer.update(from: initial, count: initial.count)
    }

    /// Whether B was exactly zero at the last training forward (so `backward` skips the same work).
    private var zeroBAtForward = false

    /// Whether every element of B is zero (+0 or −0). SECURA-M1 resets B after every merge, so with
    /// `--fusion-step 1` it holds at every forward: the short pair's output and its input gradient are
    /// exactly zero, and the products that only build them are skipped (ΔW x, dInput's C·A·B·R term, dA's
    /// t2 term). Results change only in the sign of a zero sum.
    private var bIsZero: Bool {
        var any: UInt32 = 0
        let bits = UnsafeRawPointer(b).assumingMemoryBound(to: UInt32.self)
        for i in 0..<(innerRank * rank) { any |= bits[i] & 0x7FFF_FFFF }
        return any == 0
    }

    public func forward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, rows n: Int, training: Bool) {
        let (r_, m) = (rank, innerRank)
        let zeroB = bIsZero
        if training { zeroBAtForward = zeroB }
        let longTerm = includesLongTerm && longA != nil
        let p1 = (training ? t1 : t1Eval).pointer(n * r_), p2 = (training ? t2 : t2Eval).pointer(n * m)
        let p3 = t3.pointer(n * r_)
        // t1 = x·Rᵀ: the long pair reads it, and training's dB needs it even when B is zero.
        if training || !zeroB || longTerm {
            BLAS.sgemm(transB: true, m: n, n: r_, k: inFeatures, a: input, lda: inFeatures, b: r.pointer, ldb: inFeatures,
                       c: p1, ldc: r_)
        }
        if !zeroB {
            BLAS.sgemm(transB: true, m: n, n: m, k: r_, a: p1, lda: r_, b: b, ldb: r_, c: p2, ldc: m)
            BLAS.sgemm(transB: true, m: n, n: r_, k: m, a: p2, lda: m, b: a, ldb: m, c: p3, ldc: r_)
        }
        if let longA, let longB, longTerm {
            let q = tmp.pointer(n * m)
            BLAS.sgemm(transB: true, m: n, n: m, k: r_, a: p1, lda: r_, b: longB.pointer, ldb: r_, c: q, ldc: m)
            BLAS.sgemm(transB: true, m: n, n: r_, k: m, a: q, lda: m, b: longA.pointer, ldb: m, beta: zeroB ? 0 : 1,
                       c: p3, ldc: r_)
        }
        if !zeroB || longTerm {
            BLAS.sgemm(transB: true, m: n, n: outFeatures, k: r_, a: p3, lda: r_, b: c.pointer, ldb: r_, beta: 1,
                       c: out, ldc: outFeatures)
        }
        if let bias {
            for row in 0..<n { BLAS.axpy(n: outFeatures, alpha: 1, x: bias, y: out + row * outFeatures) }
        }
    }

    public func backward(dInput: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, input: UnsafePointer<Float>,
                         rows n: Int) {
        let (r_, m) = (rank, innerRank)
        let zeroB = zeroBAtForward
        let longTerm = includesLongTerm && longA != nil
        let p1 = t1.pointer(n * r_), p2 = t2.pointer(n * m)
        let g3 = d3.pointer(n * r_), g2 = d2.pointer(n * m), g1 = d1.pointer(n * r_)
        // dt3 = dOut·C ; dA += dt3ᵀ·t2 ; dt2 = dt3·A ; dB += dt2ᵀ·t1 ; dt1 = dt2·B ; dx += dt1·R
        // (t2 and dt2·B vanish when B was zero at the forward).
        BLAS.sgemm(m: n, n: r_, k: outFeatures, a: dOut, lda: outFeatures, b: c.pointer, ldb: r_, c: g3, ldc: r_)
        if !zeroB {
            BLAS.sgemm(transA: true, m: r_, n: m, k: n, a: g3, lda: r_, b: p2, ldb: m, beta: 1, c: dA, ldc: m)
        }
        BLAS.sgemm(m: n, n: m, k: r_, a: g3, lda: r_, b: a, ldb: m, c: g2, ldc: m)
        BLAS.sgemm(transA: true, m: m, n: r_, k: n, a: g2, lda: m, b: p1, ldb: r_, beta: 1, c: dB, ldc: r_)
        if !zeroB {
            BLAS.sgemm(m: n, n: r_, k: m, a: g2, lda: m, b: b, ldb: r_, c: g1, ldc: r_)
        }
        if let longA, let longB, longTerm {
            let q = tmp.pointer(n * m)
            BLAS.sgemm(m: n, n: m, k: r_, a: g3, lda: r_, b: longA.pointer, ldb: m, c: q, ldc: m)
            BLAS.sgemm(m: n, n: r_, k: m, a: q, lda: m, b: longB.pointer, ldb: r_, beta: zeroB ? 0 : 1, c: g1, ldc: r_)
        }
        if !zeroB || longTerm {
            BLAS.sgemm(m: n, n: inFeatures, k: r_, a: g1, lda: r_, b: r.pointer, ldb: inFeatures, beta: 1,
                       c: dInput, ldc: inFeatures)
        }
        if let dBias {
            for row in 0..<n { BLAS.axpy(n: outFeatures, alpha: 1, x: dOut + row * outFeatures, y: dBias) }
        }
    }

    /// out [N, H] += x·Rᵀ·(A_L·B_L)ᵀ·Cᵀ, SECURA-M2's long-term pair alone (frozen: no parameter gradients).
    /// The output rule runs it as part of the former weight W + C·A_L·B_L·R.
    func forwardLongTerm(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, rows n: Int) {
        guard let longA, let longB else { return }
        let (r_, m) = (rank, innerRank)
        let p1 = l1.pointer(n * r_), q = l2.pointer(n * m), p3 = l3.pointer(n * r_)
        BLAS.sgemm(transB: true, m: n, n: r_, k: inFeatures, a: input, lda: inFeatures, b: r.pointer, ldb: inFeatures,
                   c: p1, ldc: r_)
        BLAS.sgemm(transB: true, m: n, n: m, k: r_, a: p1, lda: r_, b: longB.pointer, ldb: r_, c: q, ldc: m)
        BLAS.sgemm(transB: true, m: n, n: r_, k: m, a: q, lda: m, b: longA.pointer, ldb: m, c: p3, ldc: r_)
        BLAS.sgemm(transB: true, m: n, n: outFeatures, k: r_, a: p3, lda: r_, b: c.pointer, ldb: r_, beta: 1,
                   c: out, ldc: outFeatures)
    }

    /// dInput [N, D] += dOut·C·A_L·B_L·R (the input gradient of `forwardLongTerm`).
    func backwardLongTerm(dInput: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, rows n: Int) {
        guard let longA, let longB else { return }
        let (r_, m) = (rank, innerRank)
        let g3 = l1.pointer(n * r_), q = l2.pointer(n * m), g1 = l3.pointer(n * r_)
        BLAS.sgemm(m: n, n: r_, k: outFeatures, a: dOut, lda: outFeatures, b: c.pointer, ldb: r_, c: g3, ldc: r_)
        BLAS.sgemm(m: n, n: m, k: r_, a: g3, lda: r_, b: longA.pointer, ldb: m, c: q, ldc: m)
        BLAS.sgemm(m: n, n: r_, k: m, a: q, lda: m, b: longB.pointer, ldb: r_, c: g1, ldc: r_)
        BLAS.sgemm(m: n, n: inFeatures, k: r_, a: g1, lda: r_, b: r.pointer, ldb: inFeatures, beta: 1,
                   c: dInput, ldc: inFeatures)
    }

    /// P = (A·B)·R [r, D], so that ΔW = C·P (computed once per merge, shared by all row shards).
    public func mergeProduct() -> FloatBuffer {
        let ab = FloatBuffer(count: rank * rank)
        BLAS.sgemm(m: rank, n: rank, k: innerRank, a: a, lda: innerRank, b: b, ldb: rank, c: ab.pointer, ldc: rank)
        let p = FloatBuffer(count: rank * inFeatures)
        BLAS.sgemm(m: rank, n: inFeatures, k: rank, a: ab.pointer, lda: rank, b: r.pointer, ldb: inFeatures,
                   c: p.pointer, ldc: inFeatures)
        return p
    }

    /// W [H, D] += C·(A·B + A_L·B_L)·R, the long-term pair only with SECURA-M2 (export; the adapter is
    /// unchanged).
    public func merge(into w: UnsafeMutablePointer<Float>) {
        let product = mergeProduct()
        if let longProduct = longTermProduct() {
            BLAS.axpy(n: rank * inFeatures, alpha: 1, x: longProduct.pointer, y: product.pointer)
        }
        BLAS.sgemm(m: outFeatures, n: inFeatures, k: rank, a: c.pointer, lda: rank, b: product.pointer, ldb: inFeatures,
                   beta: 1, c: w, ldc: inFeatures)
    }

    /// B ← 0 after a SECURA-M1 merge (the optimizer state of B is kept).
    public func resetB() { b.update(repeating: 0, count: innerRank * rank) }

    /// SECURA-M2's fusion: A_L ← A, B_L ← B_L + damping·B, B ← 0 (`damping` 1 without S-MagNorm; see
    /// SecuraM2Method for the damped form).
    public func fuseLongTerm(damping: Float = 1) {
        guard let longA, let longB else { return }
        longA.pointer.update(from: a, count: rank * innerRank)
        for i in 0..<(innerRank * rank) { longB.pointer[i] += damping * b[i] }
        resetB()
    }

    /// C·(A_L·B_L)·R's product P_L = (A_L·B_L)·R [r, D] (SECURA-M2), so the former weight is W + C·P_L.
    public func longTermProduct() -> FloatBuffer? {
        guard let longA, let longB else { return nil }
        let ab = FloatBuffer(count: rank * rank)
        BLAS.sgemm(m: rank, n: rank, k: innerRank, a: longA.pointer, lda: innerRank, b: longB.pointer, ldb: rank,
                   c: ab.pointer, ldc: rank)
        let p = FloatBuffer(count: rank * inFeatures)
        BLAS.sgemm(m: rank, n: inFeatures, k: rank, a: ab.pointer, lda: rank, b: r.pointer, ldb: inFeatures,
                   c: p.pointer, ldc: inFeatures)
        return p
    }

    /// b_Δ's current values (`--delta-bias`), or nil.
    public var biasValues: [Float]? {
        bias.map { Array(UnsafeBufferPointer(start: $0, count: outFeatures)) }
    }

    /// Current A and B values (copies).
    public var values: (a: [Float], b: [Float]) {
        (Array(UnsafeBufferPointer(start: a, count: rank * innerRank)),
         Array(UnsafeBufferPointer(start: b, count: innerRank * rank)))
    }
}
