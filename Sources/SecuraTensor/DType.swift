// Element types of stored tensors and their widening to fp32, the only compute type.

/// The storage type of a tensor in a model file. Compute is always fp32.
public enum DType: String, Sendable, CaseIterable {
    case f32 = "F32"
    case f16 = "F16"
    case bf16 = "BF16"

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .f32: return 4
        case .f16, .bf16: return 2
        }
    }
}

/// Widening and narrowing between storage types and fp32.
public enum DTypeConversion {
    /// Widens `count` elements of `dtype` at `source` into fp32 at `destination`.
    public static func widen(_ source: UnsafeRawPointer, dtype: DType, count: Int,
                             into destination: UnsafeMutablePointer<Float>) {
        switch dtype {
        case .f32:
            destination.update(from: source.assumingMemoryBound(to: Float.self), count: count)
        case .bf16:
            let s = source.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count { destination[i] = Float(bitPattern: UInt32(s[i]) << 16) }
        case .f16:
            let s = source.assumingMemoryBound(to: UInt16.self)
            for i in 0..<count { destination[i] = halfToFloat(s[i]) }
        }
    }

    /// IEEE binary16 bits to fp32 (exact; subnormals, infinities and NaN included).
    @inline(__always)
    public static func halfToFloat(_ h: UInt16) -> Float {
        Float(Float16(bitPattern: h))
    }

    /// fp32 to bfloat16 bits, round to nearest even (NaN stays NaN), as PyTorch rounds.
    @inline(__always)
    public static func floatToBF16(_ f: Float) -> UInt16 {
        let bits = f.bitPattern
        if f.isNaN { return UInt16(truncatingIfNeeded: (bits >> 16) | 0x40) }
        let rounding: UInt32 = 0x7FFF + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    /// fp32 to IEEE binary16 bits, round to nearest even.
    @inline(__always)
    public static func floatToHalf(_ f: Float) -> UInt16 {
        Float16(f).bitPattern
    }
}
