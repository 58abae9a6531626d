// One input row times a weight's transpose, y = W·x: the products of a decode step (one new token).
//
// OpenBLAS 0.3.21 runs an m = 1 sgemm with a large weight (the output head, the MLP) as a full sgemm that first
// packs (copies) the whole weight, so a memory-bound step reads and writes every weight byte twice more than
// it needs (half the time of a decode step went to `sgemm_incopy`). Here each output element is one dot
// product read straight from the weight in a fixed order — four 16-lane accumulators over the row, the lanes
// then folded in halves, the last few columns added one by one — so a result does not depend on the thread
// count or on which thread computes the row. bf16 weights are widened in registers (exact), which halves the
// bytes a step reads from an 8B model's bf16 file.
import SecuraTensor

public enum MatVec {
    typealias Lanes = SIMD16<Float>

    /// Weight elements below which a worker is not worth waking (a 192 × 576 projection stays on one thread).
    static let elementsPerWorker = 1 << 17

    /// Whether `forward` handles weights stored as `dtype`.
    public static func supports(_ dtype: DType) -> Bool { dtype == .f32 || dtype == .bf16 }

    /// out[OC] = weight[OC, IC] · input[IC] (added to `out` when `accumulate`), the output rows spread over
    /// `Parallel.threads`. The weight must be fp32 or bf16 (`supports`).
    public static func forward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, weight: WeightView,
                               accumulate: Bool) {
        precondition(weight.shape.count == 2 && supports(weight.dtype),
                     "MatVec.forward: weight \(weight.name) is \(weight.dtype.rawValue) \(weight.shape)")
        let rows = weight.shape[0], columns = weight.shape[1]
        let minRows = max(1, elementsPerWorker / max(1, columns))
        switch weight.dtype {
        case .f32:
            let w = weight.data.assumingMemoryBound(to: Float.self)
            Parallel.forRanges(rows, minChunk: minRows) { range in
                for r in range {
                    let d = dot(w + r * columns, input, columns)
                    out[r] = accumulate ? out[r] + d : d
                }
            }
        case .bf16:
            let w = weight.data.assumingMemoryBound(to: UInt16.self)
            let half = columns / 2
            let split = UnsafeMutablePointer<Float>.allocate(capacity: 2 * half)
            defer { split.deallocate() }
            for i in 0..<half {
                split[i] = input[2 * i]
                split[half + i] = input[2 * i + 1]
            }
            Parallel.forRanges(rows, minChunk: minRows) { range in
                for r in range {
                    let d = dotBF16(w + r * columns, input, xEven: split, xOdd: split + half, columns)
                    out[r] = accumulate ? out[r] + d : d
                }
            }
        case .f16:
            preconditionFailure("MatVec.forward: f16 weights go through Linear's widened panels")
        }
    }

    /// Σ w[k]·x[k] for k < n in MatVec's fixed order.
    @inline(__always)
    static func dot(_ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ n: Int) -> Float {
        let wr = UnsafeRawPointer(w), xr = UnsafeRawPointer(x), stride = MemoryLayout<Lanes>.stride
        var a0 = Lanes(), a1 = Lanes(), a2 = Lanes(), a3 = Lanes()
        var k = 0
        while k + 64 <= n {
            let o = k * 4
            a0 += wr.loadUnaligned(fromByteOffset: o, as: Lanes.self) * xr.loadUnaligned(fromByteOffset: o, as: Lanes.self)
            a1 += wr.loadUnaligned(fromByteOffset: o + stride, as: Lanes.self) * xr.loadUnaligned(fromByteOffset: o + stride, as: Lanes.self)
            a2 += wr.loadUnaligned(fromByteOffset: o + 2 * stride, as: Lanes.self) * xr.loadUnaligned(fromByteOffset: o + 2 * stride, as: Lanes.self)
            a3 += wr.loadUnaligned(fromByteOffset: o + 3 * stride, as: Lanes.self) * xr.loadUnaligned(fromByteOffset: o + 3 * stride, as: Lanes.self)
            k += 64
        }
        while k + 16 <= n {
            a0 += wr.loadUnaligned(fromByteOffset: k * 4, as: Lanes.self) * xr.loadUnaligned(fromByteOffset: k * 4, as: Lanes.self)
            k += 16
        }
        var sum = fold((a0 + a1) + (a2 + a3))
        while k < n {
            sum += w[k] * x[k]
            k += 1
        }
        return sum
    }

    /// The bf16 form of `dot`: 32 weights per step are read as 16 pairs, the even elements widened by a shift
    /// and the odd ones by a mask (both exact), and multiplied with `x`'s even and odd elements (`xEven`,
    /// `xOdd`: `x` de-interleaved once per product); the last columns one by one.
    @inline(__always)
    static func dotBF16(_ w: UnsafePointer<UInt16>, _ x: UnsafePointer<Float>, xEven: UnsafePointer<Float>,
                        xOdd: UnsafePointer<Float>, _ n: Int) -> Float {
        let wr = UnsafeRawPointer(w), er = UnsafeRawPointer(xEven), or = UnsafeRawPointer(xOdd)
        let high = SIMD16<UInt32>(repeating: 0xFFFF_0000)
        var a0 = Lanes(), a1 = Lanes(), a2 = Lanes(), a3 = Lanes()
        var k = 0
        while k + 64 <= n {
            let p0 = wr.loadUnaligned(fromByteOffset: k * 2, as: SIMD16<UInt32>.self)
            let p1 = wr.loadUnaligned(fromByteOffset: k * 2 + 64, as: SIMD16<UInt32>.self)
            a0 += unsafeBitCast(p0 &<< 16, to: Lanes.self) * er.loadUnaligned(fromByteOffset: k * 2, as: Lanes.self)
            a1 += unsafeBitCast(p0 & high, to: Lanes.self) * or.loadUnaligned(fromByteOffset: k * 2, as: Lanes.self)
            a2 += unsafeBitCast(p1 &<< 16, to: Lanes.self) * er.loadUnaligned(fromByteOffset: k * 2 + 64, as: Lanes.self)
            a3 += unsafeBitCast(p1 & high, to: Lanes.self) * or.loadUnaligned(fromByteOffset: k * 2 + 64, as: Lanes.self)
            k += 64
        }
        while k + 32 <= n {
            let p0 = wr.loadUnaligned(fromByteOffset: k * 2, as: SIMD16<UInt32>.self)
            a0 += unsafeBitCast(p0 &<< 16, to: Lanes.self) * er.loadUnaligned(fromByteOffset: k * 2, as: Lanes.self)
            a1 += unsafeBitCast(p0 & high, to: Lanes.self) * or.loadUnaligned(fromByteOffset: k * 2, as: Lanes.self)
            k += 32
        }
        var sum = fold((a0 + a1) + (a2 + a3))
        while k < n {
            sum += Float(bitPattern: UInt32(w[k]) << 16) * x[k]
            k += 1
        }
        return sum
    }

    /// The sixteen lanes summed by halves (8 + 8, 4 + 4, 2 + 2, 1 + 1): a fixed order.
    @inline(__always)
    static func fold(_ v: Lanes) -> Float {
        let v8 = v.lowHalf + v.highHalf
        let v4 = v8.lowHalf + v8.highHalf
        let v2 = v4.lowHalf + v4.highHalf
        return v2[0] + v2[1]
    }
}
