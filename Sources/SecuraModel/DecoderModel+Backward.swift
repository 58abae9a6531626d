// The decoder's hand-written backward pass, mirroring DecoderModel.forward in reverse.
// Gradients with respect to every linear layer's input always flow; weight gradients are written
// (accumulated) only when a gradient buffer is passed.
import SecuraKernels
import SecuraTensor

extension DecoderModel {
    /// Backpropagates `lossWeight · Σ losses[targets ≥ 0]` through the forward pass saved in `acts`
    /// (through the mixer too, when the model has one). With `.recompute` activations, each layer but the
    /// last (whose values the forward left in the shared set) is re-run from its input before its backward;
    /// the gradients are the same as with `.stored` ones, bit for bit.
    ///
    /// - Parameters:
    ///   - acts: the forward pass of the same batch.
    ///   - targets: [N] next-token targets, −1 for ignored rows.
    ///   - lossWeight: derivative of the objective with respect to each scored row's loss
    ///     (1 / scored rows for a mean).
    ///   - gradients: a buffer laid out by `parameterLayout` (or any layout using the same names);
    ///     every tensor present in it is accumulated into (+=). Nil computes no weight gradients.
    ///   - logitGradient: adds extra terms to d(objective)/d(logits) [N, V] after the cross-entropy's
    ///     (I-LoRA's consistency loss); nil for none.
    /// - Returns: the gradient with respect to the embedding output [N, C] (after Gemma2's √C scaling;
    ///   valid until the next backward through the same activations).
    @discardableResult
    public func backward(_ batch: TokenBatch, acts: DecoderActivations, targets: [Int32], lossWeight: Float,
                         gradients: ParameterBuffer?,
                         logitGradient: ((UnsafeMutablePointer<Float>) -> Void)? = nil) -> FloatBuffer {
        precondition(acts.supportsBackward, "backward through activations of a forward-only pass")
        let c = config, n = batch.rows
        let cDim = c.hiddenSize, f = c.intermediateSize
        let s = acts.backwardScratch(mixer: mixer != nil)
        let offset = c.normWeightOffset
        func g(_ name: String) -> UnsafeMutablePointer<Float>? { gradients?.pointer(name) }

        targets.withUnsafeBufferPointer { t in
            CrossEntropy.backward(dLogits: s.dlogits.pointer, logits: acts.logits.pointer, targets: t.baseAddress!,
                                  weight: lossWeight, rows: n, vocab: c.vocabSize)
        }
        logitGradient?(s.dlogits.pointer)
        if let cap = c.finalSoftcap {
            SoftCap.backward(s.dlogits.pointer, capped: acts.logits.pointer, count: n * c.vocabSize, cap: cap)
        }
        let headName = c.tieWordEmbeddings ? ParameterName.embedding : ParameterName.outputHead
        Linear.backward(dInput: s.dln.pointer, dWeight: g(headName), dBias: nil, dOut: s.dlogits.pointer,
                        input: headInput(acts), weight: weights.outputHead,
                        rows: n, inFeatures: cDim, outFeatures: c.vocabSize)
        var dFinal = s.dln
        if let mixer, let dMixed = s.dMixed {
            // The head's input gradient is dĥ; the mixer turns it into dh' for the final norm.
            dFinal = dMixed
            mixer.backward(dTuned: dFinal.pointer, dOut: s.dln.pointer, tuned: acts.finalHidden.pointer, batch: batch)
        }
        RMSNorm.backward(dInput: s.dx.pointer, dWeight: g(ParameterName.finalNorm), dOut: dFinal.pointer,
                         input: acts.residual[c.layers].pointer, rstd: acts.finalRstd.pointer,
                         weight: weights.finalNorm.pointer, rows: n, channels: cDim, weightOffset: offset)

        batch.positions.withUnsafeBufferPointer { posBuffer in
            let pos = posBuffer.baseAddress!
            for l in stride(from: c.layers - 1, through: 0, by: -1) {
                if acts.mode == .recompute && l < c.layers - 1 {
                    layerForward(l, batch, acts, positions: pos, training: acts.lastForwardTraining)
                }
                let w = weights.layers[l], a = acts.layers[l]
                func lin(_ p: Projection) -> (LinearSite, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?) {
                    (LinearSite(layer: l, projection: p), g(ParameterName.layer(l, p.modulePath + ".weight")),
                     g(ParameterName.layer(l, p.modulePath + ".bias")))
                }
                // s.dx holds d(residual[l+1]). MLP branch (Gemma2: through post_feedforward_layernorm first):
                let sandwich = w.postFeedforwardNorm != nil
                if let postNorm = w.postFeedforwardNorm {
                    RMSNorm.backward(dInput: s.dln.pointer, dWeight: g(ParameterName.layer(l, "post_feedforward_layernorm.weight")),
                                     dOut: s.dx.pointer, input: a.ffnOut.pointer, rstd: a.rstd4.pointer,
                                     weight: postNorm.pointer, rows: n, channels: cDim, weightOffset: offset)
                    linearBackward(s.dact.pointer, s.dln.pointer, a.act.pointer, w.down, lin(.down), n)
                } else {
                    linearBackward(s.dact.pointer, s.dx.pointer, a.act.pointer, w.down, lin(.down), n)
                }
                switch c.mlpActivation {
                case .silu:
                    SwiGLU.backward(dGate: s.dgate.pointer, dUp: s.dup.pointer, dOut: s.dact.pointer,
                                    gate: a.gate.pointer, up: a.up.pointer, count: n * f)
                case .geluTanh:
                    GeGLU.backward(dGate: s.dgate.pointer, dUp: s.dup.pointer, dOut: s.dact.pointer,
                                   gate: a.gate.pointer, up: a.up.pointer, count: n * f)
                }
                linearBackward(s.dln.pointer, s.dgate.pointer, a.ln2.pointer, w.gate, lin(.gate), n)
                linearBackward(s.dln.pointer, s.dup.pointer, a.ln2.pointer, w.up, lin(.up), n,
                               accumulate: true)
                let mlpNorm = sandwich ? "pre_feedforward_layernorm.weight" : "post_attention_layernorm.weight"
                RMSNorm.backward(dInput: s.dx.pointer, dWeight: g(ParameterName.layer(l, mlpNorm)),
                                 dOut: s.dln.pointer, input: a.mid.pointer, rstd: a.rstd2.pointer,
                                 weight: (w.preFeedforwardNorm ?? w.postNorm).pointer, rows: n, channels: cDim,
                                 accumulate: true, weightOffset: offset)
                // s.dx now holds d(mid). Attention branch (Gemma2: through post_attention_layernorm first):
                if sandwich {
                    RMSNorm.backward(dInput: s.dln.pointer, dWeight: g(ParameterName.layer(l, "post_attention_layernorm.weight")),
                                     dOut: s.dx.pointer, input: a.attnOut.pointer, rstd: a.rstd3.pointer,
                                     weight: w.postNorm.pointer, rows: n, channels: cDim, weightOffset: offset)
                    linearBackward(s.dattn.pointer, s.dln.pointer, a.attn.pointer, w.o, lin(.o), n)
                } else {
                    linearBackward(s.dattn.pointer, s.dx.pointer, a.attn.pointer, w.o, lin(.o), n)
                }
                Attention.backward(dQ: s.dq.pointer, dK: s.dk.pointer, dV: s.dv.pointer, dOut: s.dattn.pointer,
                                   probs: a.probs.pointer, q: a.q.pointer, k: a.k.pointer, v: a.v.pointer,
                                   shape: attentionShape(layer: l, batch: batch.batch, tokens: batch.length))
                RoPE.backward(s.dq.pointer, positions: pos, table: acts.rope, rows: n, heads: c.heads)
                RoPE.backward(s.dk.pointer, positions: pos, table: acts.rope, rows: n, heads: c.kvHeads)
                linearBackward(s.dln.pointer, s.dq.pointer, a.ln1.pointer, w.q, lin(.q), n)
                linearBackward(s.dln.pointer, s.dk.pointer, a.ln1.pointer, w.k, lin(.k), n,
                               accumulate: true)
                linearBackward(s.dln.pointer, s.dv.pointer, a.ln1.pointer, w.v, lin(.v), n,
                               accumulate: true)
                RMSNorm.backward(dInput: s.dx.pointer, dWeight: g(ParameterName.layer(l, "input_layernorm.weight")),
                                 dOut: s.dln.pointer, input: acts.residual[l].pointer, rstd: a.rstd1.pointer,
                                 weight: w.inputNorm.pointer, rows: n, channels: cDim, accumulate: true,
                                 weightOffset: offset)
            }
        }
        if let dTable = g(ParameterName.embedding) {
            batch.tokens.withUnsafeBufferPointer { tok in
                Embedding.backward(dTable: dTable, dOut: s.dx.pointer, tokens: tok.baseAddress!, rows: n, channels: cDim,
                                   scale: c.embeddingScale)
            }
        }
        return s.dx
    }

    @inline(__always)
    func linearBackward(_ dInput: UnsafeMutablePointer<Float>, _ dOut: UnsafePointer<Float>,
                        _ input: UnsafePointer<Float>, _ w: LinearWeights,
                        _ site: (LinearSite, UnsafeMutablePointer<Float>?, UnsafeMutablePointer<Float>?), _ n: Int,
                        accumulate: Bool = false) {
        Linear.backward(dInput: dInput, dWeight: site.1, dBias: w.bias == nil ? nil : site.2, dOut: dOut,
                        input: input, weight: w.weight, rows: n, inFeatures: w.inFeatures,
                        outFeatures: w.outFeatures, accumulateInput: accumulate)
        deltas[site.0]?.backward(dInput: dInput, dOut: dOut, input: input, rows: n)
    }
}
