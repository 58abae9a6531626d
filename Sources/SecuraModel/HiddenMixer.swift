// The hook between the decoder's final RMSNorm and its output head. IMSM (docs/DESIGN.md §1.10)
// implements it: it runs a frozen copy of the model over the same tokens and blends the two final hidden
// states, and the head then reads the blend ĥ instead of the tuned model's h'. The decoder calls the
// mixer in its forward pass, its backward pass and its KV-cache path (Generator); a model without a
// mixer is unchanged.

/// Replaces the tuned final hidden states h' [N, C] by a mix ĥ [N, C] before the output head.
///
/// Like a `LinearDelta`, a mixer may keep what its backward needs from its last training forward: the
/// decoder calls `backward` once after each training `forward`, with the same batch and h'.
public protocol HiddenMixer: AnyObject {
    /// out = ĥ [N, C] (assigned) from `tuned` = h' [N, C], the final-norm output of the model over `batch`
    /// (N = B·T). `batch.promptLengths` gives each sequence's prompt. When `training`, dropout is active
    /// and values for `backward` are saved.
    func forward(out: UnsafeMutablePointer<Float>, tuned: UnsafePointer<Float>, batch: TokenBatch, training: Bool)

    /// dTuned = dL/dh' [N, C] (assigned) from dOut = dL/dĥ [N, C], for the last training forward over
    /// `batch` with the same `tuned`. Parameter gradients accumulate (+=) into the mixer's own views of
    /// the trainable gradient buffer.
    func backward(dTuned: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, tuned: UnsafePointer<Float>,
                  batch: TokenBatch)

    /// The generation path: out = ĥ [n, C] for `tokens`, the n tokens just fed at positions past..<past+n
    /// of the sequence whose tuned KV cache is `cache`, with `tuned` = their h' [n, C]. The mixer keeps its
    /// own per-sequence state (e.g. a second KV cache) in `cache.mixerState`; `past == 0` starts a new
    /// sequence, and those first n tokens are its prompt.
    /// - Throws: when the mixer's state does not follow the cache (a skipped or repeated call).
    func extend(out: UnsafeMutablePointer<Float>, tuned: UnsafePointer<Float>, tokens: [Int32], past: Int,
                cache: KVCache) throws
}
