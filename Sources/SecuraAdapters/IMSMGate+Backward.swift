// The IMSM gate's backward pass. With d = h − h', ĥ = h' + g ⊙ d, g = σ(z), z = u·W_Bᵀ, u = x̃·W_Aᵀ:
//   dh' = (1 − g) ⊙ dĥ,  dh = g ⊙ dĥ,  dz = dĥ ⊙ d ⊙ g ⊙ (1 − g),
//   dW_B += dzᵀ·u,  du = dz·W_B,  dW_A += duᵀ·x̃,  dx = dropout'(du·W_A),
// and dx is scattered back: its h and h' blocks to the same row, its q̄ and q̄' blocks (summed over all
// rows of the sequence) spread evenly, 1/P each, over the sequence's prompt rows. The authors' placement
// (ũ = m_A ⊙ u, z = ũ·W_Bᵀ, g = σ(m_B ⊙ z), x undropped) multiplies dz and du by the forward's saved masks:
//   dz = m_B ⊙ (dĥ ⊙ d ⊙ g ⊙ (1 − g)),  dW_B += dzᵀ·ũ,  du = m_A ⊙ (dz·W_B),  dW_A += duᵀ·x,  dx = du·W_A.
import SecuraTensor

extension IMSMGate {
    /// Gradients of the last training forward.
    /// - Parameters:
    ///   - dTuned: dL/dh' [B·T, C] (assigned), including the path through q̄' to the prompt rows.
    ///   - dBase: dL/dh [B·T, C] (assigned), or nil to skip the frozen branch.
    ///   - dOut: dL/dĥ [B·T, C].
    ///   - h, hp: the h and h' [B·T, C] given to that forward.
    ///   - promptLengths, length: as given to that forward.
    ///
    /// dW_A and dW_B accumulate (+=) into the gradient buffer. The saved gate input is overwritten, so call
    /// this once per training forward.
    public func backward(dTuned: UnsafeMutablePointer<Float>, dBase: UnsafeMutablePointer<Float>?,
                         dOut: UnsafePointer<Float>, base h: UnsafePointer<Float>, tuned hp: UnsafePointer<Float>,
                         promptLengths: [Int], length: Int) {
        let n = promptLengths.count * length, c = width, count = n * c
        precondition(n == savedRows, "IMSM backward over \(n) rows, the last training forward had \(savedRows)")
        guard let w = weights else {
            // ĥ = h' + 0.5·(h − h').
            for i in 0..<count { dTuned[i] = 0.5 * dOut[i] }
            if let dBase { for i in 0..<count { dBase[i] = 0.5 * dOut[i] } }
            return
        }
        let xp = x.pointer(n * inputWidth), up = u.pointer(n * rank), gp = g.pointer(count)
        let dzp = dz.pointer(count), dup = du.pointer(n * rank)
        for i in 0..<count {
            let gi = gp[i], d = dOut[i]
            dTuned[i] = d * (1 - gi)
            dzp[i] = d * (h[i] - hp[i]) * gi * (1 - gi)
        }
        if let dBase { for i in 0..<count { dBase[i] = dOut[i] * gp[i] } }
        let authors = variant == .authors
        if authors {
            let mb = maskAfterB.pointer(count)
            for i in 0..<count { dzp[i] *= mb[i] }
        }

        BLAS.sgemm(transA: true, m: c, n: rank, k: n, a: dzp, lda: c, b: up, ldb: rank, beta: 1, c: w.dB, ldc: rank)
        BLAS.sgemm(m: n, n: rank, k: c, a: dzp, lda: c, b: w.b, ldb: rank, c: dup, ldc: rank)
        if authors {
            let ma = maskAfterA.pointer(n * rank)
            for i in 0..<(n * rank) { dup[i] *= ma[i] }
        }
        BLAS.sgemm(transA: true, m: rank, n: inputWidth, k: n, a: dup, lda: rank, b: xp, ldb: inputWidth,
                   beta: 1, c: w.dA, ldc: inputWidth)
        let dx = xp   // x̃ is no longer needed: reuse its storage
        BLAS.sgemm(m: n, n: inputWidth, k: rank, a: dup, lda: rank, b: w.a, ldb: inputWidth, c: dx, ldc: inputWidth)
        if let dropout {
            // Dropout is diagonal, so its transpose is itself: the same mask and scale, applied in place.
            dropout.forward(out: dx, input: dx, rows: n, features: inputWidth, context: context)
        }

        let (hColumn, hpColumn) = mode == .full ? (c, 2 * c) : (0, c)
        for r in 0..<n {
            BLAS.axpy(n: c, alpha: 1, x: dx + r * inputWidth + hpColumn, y: dTuned + r * c)
            if let dBase { BLAS.axpy(n: c, alpha: 1, x: dx + r * inputWidth + hColumn, y: dBase + r * c) }
        }
        guard mode == .full else { return }
        // q̄_b and q̄'_b enter every row of sequence b: sum their gradients over those rows, then each
        // prompt row receives 1/P of the sum.
        let sums = means.pointer(2 * c)
        for (b, p) in promptLengths.enumerated() where p > 0 {
            sums.update(repeating: 0, count: 2 * c)
            for t in 0..<length {
                let row = dx + (b * length + t) * inputWidth
                BLAS.axpy(n: c, alpha: 1, x: row, y: sums)
                BLAS.axpy(n: c, alpha: 1, x: row + 3 * c, y: sums + c)
            }
            let scale = 1 / Float(p)
            for t in 0..<p {
                let r = b * length + t
                BLAS.axpy(n: c, alpha: scale, x: sums + c, y: dTuned + r * c)
                if let dBase { BLAS.axpy(n: c, alpha: scale, x: sums, y: dBase + r * c) }
            }
        }
    }
}
