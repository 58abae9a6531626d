// Dequantisation of ggml's block formats to fp32, one tight loop per block type. The block layouts
// and the arithmetic (fp32, in ggml's order of operations, no fused multiply-add) follow ggml's
// reference dequantisers, so results equal gguf-py's `gguf.quants.dequantize` bit for bit.
//
//   Q8_0  32 values: f16 d, 32 × int8 q                    x = q·d
//   Q4_0  32 values: f16 d, 16 bytes (q_j low nibble, q_{j+16} high)       x = (q − 8)·d
//   Q4_1  32 values: f16 d, f16 m, 16 bytes as Q4_0        x = q·d + m
//   Q4_K  256 values: f16 d, f16 dmin, 12 bytes of eight 6-bit (scale, min) pairs, 128 bytes of
//         nibbles; 64 values per 32 bytes (low nibbles first)            x = (d·sc)·q − dmin·m
//   Q6_K  256 values: 128 bytes low nibbles, 64 bytes high 2-bit pairs, 16 × int8 scales, f16 d;
//         x = (d·sc)·(q − 32), 16 values per scale

/// fp32 dequantisation of ggml tensor types.
public enum GGUFDequantize {
    /// Dequantises `count` values of `type` from `source` into `destination`.
    ///
    /// - Precondition: `type.isDequantizable`, `count` a multiple of `type.blockSize`, and `source`
    ///   holds `count / blockSize` whole blocks. `source` need not be aligned.
    public static func dequantize(_ type: GGMLType, from source: UnsafeRawPointer, count: Int,
                                  into destination: UnsafeMutablePointer<Float>) {
        precondition(type.isDequantizable, "\(type.name) cannot be dequantised")
        precondition(count % type.blockSize == 0, "\(count) values are not whole \(type.name) blocks")
        let blocks = count / type.blockSize
        switch type {
        case .f32: UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * 4)
        case .f16: for i in 0..<count { destination[i] = half(source, 2 * i) }
        case .bf16:
            for i in 0..<count {
                destination[i] = Float(bitPattern: UInt32(u16(source, 2 * i)) << 16)
            }
        case .q8_0: q8_0(source, blocks, destination)
        case .q4_0: q4_0(source, blocks, destination)
        case .q4_1: q4_1(source, blocks, destination)
        case .q4_K: q4_K(source, blocks, destination)
        case .q6_K: q6_K(source, blocks, destination)
        default: preconditionFailure("unreachable: \(type.name) is not dequantizable")
        }
    }

    @inline(__always)
    static func u16(_ p: UnsafeRawPointer, _ offset: Int) -> UInt16 {
        UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inline(__always)
    static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        Float(Float16(bitPattern: u16(p, offset)))
    }

    @inline(__always)
    static func byte(_ p: UnsafeRawPointer, _ offset: Int) -> UInt8 {
        p.load(fromByteOffset: offset, as: UInt8.self)
    }

    static func q8_0(_ src: UnsafeRawPointer, _ blocks: Int, _ y: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            let p = src + b * 34
            let d = half(p, 0)
            let out = y + b * 32
            for j in 0..<32 { out[j] = Float(Int8(bitPattern: byte(p, 2 + j))) * d }
        }
    }

    static func q4_0(_ src: UnsafeRawPointer, _ blocks: Int, _ y: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            let p = src + b * 18
            let d = half(p, 0)
            let out = y + b * 32
            for j in 0..<16 {
                let q = byte(p, 2 + j)
                out[j] = d * Float(Int(q & 0x0F) - 8)
                out[j + 16] = d * Float(Int(q >> 4) - 8)
            }
        }
    }

    static func q4_1(_ src: UnsafeRawPointer, _ blocks: Int, _ y: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            let p = src + b * 20
            let d = half(p, 0)
            let m = half(p, 2)
            let out = y + b * 32
            for j in 0..<16 {
                let q = byte(p, 4 + j)
                out[j] = d * Float(q & 0x0F) + m
                out[j + 16] = d * Float(q >> 4) + m
            }
        }
    }

    /// Scale and min of sub-block `j` (0..<8) from Q4_K's 12 packed bytes at `s`: sub-blocks 0–3 use
    /// the low 6 bits of bytes j and j+4; sub-blocks 4–7 take their low 4 bits from byte j+4's nibbles
    /// and their top 2 bits from the spare high bits of bytes j−4 and j.
    @inline(__always)
    static func scaleMin(_ s: UnsafeRawPointer, _ j: Int) -> (scale: Float, min: Float) {
        if j < 4 {
            return (Float(byte(s, j) & 63), Float(byte(s, j + 4) & 63))
        }
        let scale = (byte(s, j + 4) & 0x0F) | ((byte(s, j - 4) >> 6) << 4)
        let min = (byte(s, j + 4) >> 4) | ((byte(s, j) >> 6) << 4)
        return (Float(scale), Float(min))
    }

    static func q4_K(_ src: UnsafeRawPointer, _ blocks: Int, _ y: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            let p = src + b * 144
            let d = half(p, 0)
            let dmin = half(p, 2)
            let scales = p + 4
            let qs = p + 16
            let out = y + b * 256
            for group in 0..<4 {
                let (sc1, m1) = scaleMin(scales, 2 * group)
                let (sc2, m2) = scaleMin(scales, 2 * group + 1)
                let d1 = d * sc1, min1 = dmin * m1
                let d2 = d * sc2, min2 = dmin * m2
                let q = qs + 32 * group
                let o = out + 64 * group
                for l in 0..<32 {
                    let v = byte(q, l)
                    o[l] = d1 * Float(v & 0x0F) - min1
                    o[l + 32] = d2 * Float(v >> 4) - min2
                }
            }
        }
    }

    static func q6_K(_ src: UnsafeRawPointer, _ blocks: Int, _ y: UnsafeMutablePointer<Float>) {
        for b in 0..<blocks {
            let p = src + b * 210
            let d = half(p, 208)
            let out = y + b * 256
            for half128 in 0..<2 {
                let ql = p + 64 * half128
                let qh = p + 128 + 32 * half128
                let sc = p + 192 + 8 * half128
                let o = out + 128 * half128
                for l in 0..<32 {
                    let s = l / 16
                    let h = byte(qh, l)
                    let lo = byte(ql, l), hi = byte(ql, l + 32)
                    let q1 = Int((lo & 0x0F) | ((h & 3) << 4)) - 32
                    let q2 = Int((hi & 0x0F) | (((h >> 2) & 3) << 4)) - 32
                    let q3 = Int((lo >> 4) | (((h >> 4) & 3) << 4)) - 32
                    let q4 = Int((hi >> 4) | (((h >> 6) & 3) << 4)) - 32
                    o[l] = d * Float(Int8(bitPattern: byte(sc, s))) * Float(q1)
                    o[l + 32] = d * Float(Int8(bitPattern: byte(sc, s + 2))) * Float(q2)
                    o[l + 64] = d * Float(Int8(bitPattern: byte(sc, s + 4))) * Float(q3)
                    o[l + 96] = d * Float(Int8(bitPattern: byte(sc, s + 6))) * Float(q4)
                }
            }
        }
    }
}
