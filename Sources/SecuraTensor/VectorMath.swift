// e^x sixteen lanes at a time, for the element-wise kernels whose scalar `expf` calls were a tenth of a
// training step (cross-entropy over the vocabulary, attention's softmax, SwiGLU, S-MagNorm's sigmoid).
//
// Range reduction x = n·ln 2 + r with |r| ≤ ln 2 / 2 (ln 2 split in two parts so n·ln2_hi is exact), a
// degree-7 polynomial for e^r (the minimax coefficients of Cephes' expf, published in S. L. Moshier,
// "Methods and Programs for Mathematical Functions", 1989), and 2^n built in the exponent bits. Every lane is
// computed alone, so a value's result does not depend on its position in a loop or on the thread that
// runs it: results stay identical across rank and thread counts.
public enum VectorMath {
    public typealias Vector = SIMD16<Float>
    public static let width = Vector.scalarCount

    /// e^x lane by lane: within 1 ulp of e^x for x in [−87.33, 88.37], 0 below, +infinity above, NaN for NaN.
    /// (Written with lane-wise selects and the 1.5·2^23 rounding trick: Swift's generic SIMD rounding and
    /// Float→Int conversions run lane by lane through scalar code, 20× slower than this.)
    @inlinable @inline(__always)
    public static func exp(_ x: Vector) -> Vector {
        // Above 88.37626 e^x overflows 2^n's exponent bits (+infinity; FLT_MAX is e^88.72); below
        // −87.33654 it is subnormal (0; e^−87.3365 is the smallest normal Float).
        let low = Vector(repeating: -87.336_54), high = Vector(repeating: 88.376_26)
        var xc = x.replacing(with: low, where: x .< low)
        xc.replace(with: high, where: xc .> high)
        // t's low mantissa bits hold n = round(x·log2 e); n = t − 1.5·2^23 exactly.
        let magic: Float = 12_582_912
        let t = xc * 1.442_695_04 + magic
        let n = t - magic
        let r = (xc - n * 0.693_359_375) - n * -2.121_944_4e-4
        var p = Vector(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        p = p * (r * r) + r + 1
        let exponent = ((unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000) &+ 127) &<< 23
        var y = p * unsafeBitCast(exponent, to: Vector.self)
        y.replace(with: 0, where: x .< low)
        y.replace(with: .infinity, where: x .> high)
        y.replace(with: x, where: x .!= x)
        return y
    }

    /// e^x of one value, the same result as its lane of `exp(_: Vector)`.
    @inlinable @inline(__always)
    public static func exp(_ x: Float) -> Float { exp(Vector(repeating: x))[0] }

    /// |x| lane by lane (the sign bit cleared, as `Float.magnitude`).
    @inlinable @inline(__always)
    public static func abs(_ x: Vector) -> Vector {
        unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: Vector.self)
    }

    /// The `count` (< `width` allowed) values at `p` as a vector, `fill` in the lanes past `count`.
    @inlinable @inline(__always)
    public static func load(_ p: UnsafePointer<Float>, count: Int, fill: Float = 0) -> Vector {
        if count >= width { return UnsafeRawPointer(p).loadUnaligned(as: Vector.self) }
        var v = Vector(repeating: fill)
        for i in 0..<count { v[i] = p[i] }
        return v
    }

    /// Stores the first `count` lanes of `v` at `p`.
    @inlinable @inline(__always)
    public static func store(_ v: Vector, _ p: UnsafeMutablePointer<Float>, count: Int) {
        if count >= width {
            UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vector.self)
            return
        }
        for i in 0..<count { p[i] = v[i] }
    }

    /// Calls `body(offset, lanes)` over `range` in steps of `width` (the last step may be shorter).
    @inlinable @inline(__always)
    public static func forEachVector(_ range: Range<Int>, _ body: (Int, Int) -> Void) {
        var i = range.lowerBound
        while i < range.upperBound {
            body(i, min(width, range.upperBound - i))
            i += width
        }
    }
}
