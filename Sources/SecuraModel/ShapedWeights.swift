// The values of a shape-faithful model's tensors: a counter-based generator, so element i of tensor t is
// a pure function of (seed, t's name, i). Any chunking, thread count, shard size or write order gives
// the same bytes, and a chunk is filled with no state carried from the previous one.
//
// Distribution (documented for users in `make-model --help`):
// - linear weights, the embedding and the output head: Irwin–Hall(4) scaled to mean 0, std 0.02 — the
//   sum of four 16-bit uniforms taken from one SplitMix64 hash of the element's counter, a bell-shaped
//   approximation of N(0, 0.02²) bounded at ±3.46 σ (±0.069);
// - q/k/v biases (Qwen2): the same shape with std 0.01;
// - RMSNorm weights: a scale of exactly 1 (stored 1; Gemma2, whose norms scale by 1 + w, stores 0).
import Dispatch

/// Deterministic weight values for `make-model`.
public enum ShapedWeights {
    /// How a tensor's elements are drawn.
    public enum Kind: Equatable, Sendable {
        /// Irwin–Hall(4), mean 0, this standard deviation.
        case bell(std: Float)
        /// Every element equal to this value.
        case constant(Float)
    }

    /// Standard deviation of weights, the embedding and the head (transformers' initializer_range).
    public static let weightStd: Float = 0.02
    /// Standard deviation of biases.
    public static let biasStd: Float = 0.01

    /// The distribution of the tensor called `name` (Hugging Face names). `normOffset` is the config's
    /// `normWeightOffset`: norms then scale by exactly 1.
    public static func kind(of name: String, normOffset: Float = 0) -> Kind {
        if name.hasSuffix("norm.weight") { return .constant(1 - normOffset) }
        if name.hasSuffix(".bias") { return .bell(std: biasStd) }
        return .bell(std: weightStd)
    }

    /// The per-tensor key: the seed mixed with an FNV-1a hash of the name.
    public static func key(seed: UInt64, name: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return mix(h ^ mix(seed))
    }

    /// SplitMix64's output function.
    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The fp32 value of element `index` of a tensor with `key` and `kind` (before narrowing to the dtype).
    @inline(__always)
    public static func value(key: UInt64, kind: Kind, index: Int) -> Float {
        switch kind {
        case let .constant(c): return c
        case let .bell(std): return bell(key: key, index: index, scale: std * bellScale)
        }
    }

    /// 1 / std of the sum of four independent uniform 16-bit integers: sqrt(12 / (4 · (65536² − 1))).
    static let bellScale: Float = {
        let variance: Double = 4 * (65536 * 65536 - 1) / 12
        return Float(1 / variance.squareRoot())
    }()

    @inline(__always)
    static func bell(key: UInt64, index: Int, scale: Float) -> Float {
        let h = mix(key &+ UInt64(truncatingIfNeeded: index) &* 0x9E37_79B9_7F4A_7C15)
        let low = (h & 0xFFFF) &+ ((h >> 16) & 0xFFFF)
        let high = ((h >> 32) & 0xFFFF) &+ (h >> 48)
        let sum = Int32(truncatingIfNeeded: low &+ high) &- 131_070
        return Float(sum) * scale
    }

    /// Writes the fp32 values of elements `start..<start + out.count` of a tensor into `out`, split over
    /// `threads` workers (the values do not depend on `threads`). The safetensors writer narrows them to
    /// the stored dtype.
    public static func fill(_ out: UnsafeMutableBufferPointer<Float>, key: UInt64, kind: Kind, start: Int,
                            threads: Int = 1) {
        let count = out.count
        let workers = max(1, min(threads, count / 65_536))
        let per = (count + workers - 1) / workers
        let body = { (w: Int) in
            let lo = w * per, hi = min(count, lo + per)
            guard lo < hi else { return }
            fillRange(out, key: key, kind: kind, start: start, range: lo..<hi)
        }
        if workers == 1 { body(0) } else { DispatchQueue.concurrentPerform(iterations: workers, execute: body) }
    }

    private static func fillRange(_ out: UnsafeMutableBufferPointer<Float>, key: UInt64, kind: Kind, start: Int,
                                  range: Range<Int>) {
        // The kind is fixed per call, so each loop body is branch-free.
        switch kind {
        case let .constant(c):
            UnsafeMutableBufferPointer(rebasing: out[range]).update(repeating: c)
        case let .bell(std):
            let p = out.baseAddress!, scale = std * bellScale
            for i in range { p[i] = bell(key: key, index: start + i, scale: scale) }
        }
    }
}
