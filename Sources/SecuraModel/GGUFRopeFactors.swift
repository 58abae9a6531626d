// Recovers Hugging Face RoPE scaling parameters from a GGUF file's `rope_freqs.weight`.
//
// llama.cpp's converter does not write Llama 3.1's "llama3" RoPE parameters as metadata; it writes the
// per-frequency divisors r_i (f'_i = f_i / r_i) as a tensor. The llama3 rule makes r_i = 1 for short
// wavelengths λ < λ_high, r_i = factor for λ > λ_low, and in between 1/r_i = (1 − s)/factor + s with
// s linear in 1/λ: s = (1/λ − 1/λ_low) / (1/λ_high − 1/λ_low). So factor = max r_i, and the two band
// edges follow from the smoothed entries; the frequencies depend only on the edges, and writing them
// as original_max = λ_low, low_freq_factor = 1, high_freq_factor = λ_low/λ_high gives back Llama 3.1's
// (8192, 1, 4) exactly. The result is verified against every stored factor; anything that is not the
// llama3 rule (or a uniform "linear" factor) is rejected rather than approximated.
import Foundation
import SecuraKernels

enum GGUFRopeFactors {
    /// Relative tolerance for the float32-stored factors.
    static let tolerance = 1e-5

    /// The scaling that reproduces `factors` (D/2 divisors) for `theta` and `headDim`; nil when every
    /// factor is 1. `path` and `tensor` name the source in errors.
    ///
    /// - Throws: `ModelError.invalidConfig` when the factors follow neither the llama3 rule nor a uniform factor.
    static func scaling(factors: [Double], theta: Double, headDim: Int, path: String,
                        tensor: String = "rope_freqs.weight") throws -> RopeParameters? {
        func reject(_ reason: String) -> ModelError {
            .invalidConfig(path: path, key: tensor, reason: reason)
        }
        guard factors.count == headDim / 2 else {
            throw reject("has \(factors.count) values, expected head_dim/2 = \(headDim / 2)")
        }
        guard factors.allSatisfy({ $0.isFinite && $0 >= 1 - tolerance }) else {
            throw reject("holds factors below 1 or not finite; only frequency divisors ≥ 1 are supported")
        }
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= tolerance * max(abs(a), abs(b)) }
        if factors.allSatisfy({ close($0, 1) }) { return nil }
        if factors.allSatisfy({ close($0, factors[0]) }) {
            return RopeParameters(rope_type: "linear", factor: factors[0])
        }

        let factor = factors.max()!
        let base = RoPE.inverseFrequencies(headDim: headDim, theta: theta, scaling: .none)
        let x = base.map { $0 / (2 * Double.pi) }  // 1/λ, decreasing with i
        let unchanged = factors.indices.filter { close(factors[$0], 1) }
        let divided = factors.indices.filter { close(factors[$0], factor) }
        let smoothed = factors.indices.filter { !close(factors[$0], 1) && !close(factors[$0], factor) }
        // Bands in order of wavelength: unchanged, smoothed, divided.
        let order = unchanged + smoothed + divided
        guard order == Array(factors.indices) else {
            throw reject("does not follow the llama3 rule (factors are not banded by wavelength)")
        }
        let s = smoothed.map { (1 / factors[$0] - 1 / factor) / (1 - 1 / factor) }
        let xDiv = divided.first.map { x[$0] } ?? 0            // largest 1/λ of the divided band
        let xUnch = unchanged.last.map { x[$0] } ?? .infinity   // smallest 1/λ of the unchanged band
        let u: Double, v: Double                                // 1/λ_low < 1/λ_high
        if smoothed.count >= 2 {
            let (i, j) = (smoothed.first!, smoothed.last!)
            let (si, sj) = (s.first!, s.last!)
            let width = (x[i] - x[j]) / (si - sj)
            u = x[i] - si * width
            v = u + width
        } else if smoothed.count == 1 {
            let xs = x[smoothed[0]], s0 = s[0]
            // Any edge pair through the one point works; take the upper edge halfway to its limit.
            let vMax = min(xUnch, xs + (xs - xDiv) * (1 / s0 - 1))
            v = (xs + vMax) / 2
            u = (v * s0 - xs) / (s0 - 1)
        } else {
            let top = xUnch.isFinite ? xUnch : 2 * xDiv
            u = xDiv + (top - xDiv) / 3
            v = xDiv + 2 * (top - xDiv) / 3
        }
        guard u > 0, v > u else { throw reject("does not follow the llama3 rule (no consistent band edges)") }
        let rope = RopeParameters(rope_type: "llama3", factor: factor, low_freq_factor: 1, high_freq_factor: v / u,
                                  original_max_position_embeddings: 1 / u)
        let fitted = RoPE.inverseFrequencies(headDim: headDim, theta: theta, scaling:
            .llama3(factor: factor, lowFreqFactor: 1, highFreqFactor: v / u, originalMaxPositions: 1 / u))
        for i in factors.indices where !close(fitted[i], base[i] / factors[i]) {
            throw reject("does not follow the llama3 rule (frequency \(i): factor \(factors[i]), llama3 fit gives "
                + "\(base[i] / fitted[i]))")
        }
        return rope
    }
}
