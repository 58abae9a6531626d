// Rotary position embedding in Hugging Face's "rotate half" layout: dimension i pairs with i + D/2.
// (GGUF files store Llama's Q/K rows permuted for the interleaved layout; the loader undoes that.)
import Foundation
import SecuraTensor

/// How the base rotary frequencies are rescaled for long context.
public enum RoPEScaling: Equatable, Sendable {
    case none
    /// Positions divided by `factor` (rope_type "linear").
    case linear(factor: Double)
    /// Llama 3.1's band-wise rule (rope_type "llama3").
    case llama3(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositions: Double)
}

public enum RoPE {
    /// The D/2 inverse frequencies θ^(−2i/D), rescaled as `scaling` says (computed in Double).
    public static func inverseFrequencies(headDim d: Int, theta: Double, scaling: RoPEScaling) -> [Double] {
        let base = (0..<(d / 2)).map { i in 1.0 / pow(theta, Double(2 * i) / Double(d)) }
        switch scaling {
        case .none:
            return base
        case let .linear(factor):
            return base.map { $0 / factor }
        case let .llama3(factor, low, high, original):
            let lowWavelen = original / low
            let highWavelen = original / high
            return base.map { f in
                let wavelen = 2 * Double.pi / f
                if wavelen < highWavelen { return f }
                if wavelen > lowWavelen { return f / factor }
                let smooth = (original / wavelen - low) / (high - low)
                return (1 - smooth) * f / factor + smooth * f
            }
        }
    }

    /// cos and sin tables [positions, D/2] for positions 0..<count.
    public struct Table: Sendable {
        public let halfDim: Int
        public let positions: Int
        public let cos: [Float]
        public let sin: [Float]

        public init(inverseFrequencies: [Double], positions: Int) {
            halfDim = inverseFrequencies.count
            self.positions = positions
            var c = [Float](repeating: 0, count: positions * halfDim)
            var s = c
            for p in 0..<positions {
                for i in 0..<halfDim {
                    let angle = Double(p) * inverseFrequencies[i]
                    c[p * halfDim + i] = Float(Foundation.cos(angle))
                    s[p * halfDim + i] = Float(Foundation.sin(angle))
                }
            }
            cos = c
            sin = s
        }
    }

    /// Rotates x[N, heads·D] in place; row n sits at position positions[n] (< table.positions).
    public static func forward(_ x: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>,
                               table: Table, rows n: Int, heads: Int) {
        rotate(x, positions: positions, table: table, rows: n, heads: heads, direction: 1)
    }

    /// Backward of `forward` in place: dx = Rᵀ·dy, the inverse rotation.
    public static func backward(_ dx: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>,
                                table: Table, rows n: Int, heads: Int) {
        rotate(dx, positions: positions, table: table, rows: n, heads: heads, direction: -1)
    }

    private static func rotate(_ x: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>,
                               table: Table, rows n: Int, heads: Int, direction: Float) {
        let half = table.halfDim
        let d = 2 * half
        table.cos.withUnsafeBufferPointer { cosT in
            table.sin.withUnsafeBufferPointer { sinT in
                Parallel.forRanges(n, minChunk: 8) { range in
                    for r in range {
                        let p = Int(positions[r]) * half
                        for h in 0..<heads {
                            let v = x + (r * heads + h) * d
                            for i in 0..<half {
                                let c = cosT[p + i]
                                let s = sinT[p + i] * direction
                                let a = v[i]
                                let b = v[i + half]
                                v[i] = a * c - b * s
                                v[i + half] = b * c + a * s
                            }
                        }
                    }
                }
            }
        }
    }
}
