// Gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_ does it.
import SecuraTensor

public enum GradientClipping {
    /// The L2 norm of `count` gradients (accumulated in Double); NaN/Inf propagate.
    public static func norm(_ g: UnsafePointer<Float>, count: Int) -> Double {
        var s = 0.0
        for i in 0..<count { s += Double(g[i]) * Double(g[i]) }
        return s.squareRoot()
    }

    /// Scales the gradients by maxNorm / (norm + 1e-6) when that is below 1.
    /// - Returns: the norm before clipping.
    @discardableResult
    public static func clip(_ g: UnsafeMutablePointer<Float>, count: Int, maxNorm: Double) -> Double {
        let total = norm(g, count: count)
        let coefficient = maxNorm / (total + 1e-6)
        if coefficient < 1 {
            let c = Float(coefficient)
            for i in 0..<count { g[i] *= c }
        }
        return total
    }
}
