// Counter-based dropout: whether element (row, feature) of a site is kept depends only on the run's
// seed, the step, the row's global sample index and position, the site and the feature, so the masks
// are the same for any rank count, any micro-batching, and after a resume.
import SecuraModel

/// What adapters need to know about the rows of the current micro-batch.
public final class AdapterContext {
    /// Per row of the micro-batch: a seed derived from (run seed, step, global sample index, position).
    public var rowSeeds: [UInt64] = []
    public init() {}

    /// Row seeds for B sequences of T tokens whose global sample indices are `samples`.
    public static func rowSeeds(seed: UInt64, step: Int, samples: [Int], length: Int) -> [UInt64] {
        var seeds: [UInt64] = []
        seeds.reserveCapacity(samples.count * length)
        for s in samples {
            for t in 0..<length {
                seeds.append(mix(seed ^ mix(UInt64(step) &* 0x9E37_79B9_7F4A_7C15 ^ mix(UInt64(s) << 20 | UInt64(t)))))
            }
        }
        return seeds
    }

    /// SplitMix64's finaliser: a bijective 64-bit mix.
    @inline(__always)
    public static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Inverted dropout with rate p: kept values are scaled by 1/(1−p).
public struct Dropout {
    public let rate: Float
    public let siteKey: UInt64

    public init(rate: Float, site: LinearSite) {
        self.rate = rate
        siteKey = AdapterContext.mix(UInt64(site.layer) << 8 | UInt64(Projection.allCases.firstIndex(of: site.projection)!))
    }

    /// Dropout for a site that is not a linear layer (e.g. the IMSM gate). `siteKey` must differ from
    /// every linear site's key so the masks are independent of theirs.
    public init(rate: Float, siteKey: UInt64) {
        self.rate = rate
        self.siteKey = siteKey
    }

    /// out[N, F] = dropout(input) using the context's row seeds.
    public func forward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, rows: Int, features: Int,
                        context: AdapterContext) {
        each(rows, features, context) { i, scale in out[i] = input[i] * scale }
    }

    /// out[N, F] = the mask itself: 0 where `forward` drops an element, 1/(1−p) where it keeps one.
    public func mask(out: UnsafeMutablePointer<Float>, rows: Int, features: Int, context: AdapterContext) {
        each(rows, features, context) { i, scale in out[i] = scale }
    }

    /// dInput[N, F] += dropout'(dOut): the same mask and scale as `forward`.
    public func backward(dInput: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>, rows: Int, features: Int,
                         context: AdapterContext) {
        each(rows, features, context) { i, scale in dInput[i] += dOut[i] * scale }
    }

    @inline(__always)
    private func each(_ rows: Int, _ features: Int, _ context: AdapterContext, _ body: (Int, Float) -> Void) {
        precondition(context.rowSeeds.count >= rows, "adapter context has no row seeds for this batch")
        let keepScale = 1 / (1 - rate)
        let threshold = UInt64(Double(rate) * Double(UInt64.max))
        for r in 0..<rows {
            let base = context.rowSeeds[r] ^ siteKey
            for f in 0..<features {
                let u = AdapterContext.mix(base &+ UInt64(f) &* 0xD1B5_4A32_D192_ED03)
                body(r * features + f, u < threshold ? 0 : keepScale)
            }
        }
    }
}
