// Self-checks of the native layer, run by `secura-dist doctor`: OpenBLAS sgemm against a naive loop, and
// the distributed SVD (ScaLAPACK over all ranks) against the single-process LAPACK SVD on a seeded
// random matrix that each rank generates independently for its own blocks. They live here, beside the
// code they check, so the CLI needs no CBLAS import and only formats the reports.
import CBLAS
import Foundation
import SecuraDistributed
import SecuraLinAlg

/// Native-library checks; every function is collective over `communicator` where it takes one.
public enum NativeSelfTest {
    /// Sets OpenBLAS's thread count (e.g. cores on the node / ranks on the node).
    public static func setBLASThreads(_ threads: Int) {
        openblas_set_num_threads(Int32(max(1, threads)))
    }

    /// OpenBLAS's build description (version, target core, threading).
    public static var blasConfiguration: String {
        openblas_get_config().map { String(cString: $0) } ?? "unknown"
    }

    /// The kernel set OpenBLAS picked for this CPU (e.g. "Haswell", "SkylakeX", "Prescott").
    public static var blasCoreName: String {
        openblas_get_corename().map { String(cString: $0) } ?? "unknown"
    }

    /// A hint when OpenBLAS fell back to its generic Prescott (SSE3) kernels on a CPU with AVX2 or
    /// AVX-512, which happens when it does not recognise the CPU model (common in VMs). Its dynamic
    /// dispatch reads OPENBLAS_CORETYPE at load time, so the fix is an environment variable set before
    /// the process starts. Returns nil when there is nothing to suggest.
    public static func blasCoreAdvice(cpuInfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> String? {
        guard blasCoreName.lowercased() == "prescott", let cpuInfo,
              let flagsLine = cpuInfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        let better = flags.contains("avx512f") ? "SkylakeX" : flags.contains("avx2") ? "Haswell" : nil
        return better.map {
            "OpenBLAS uses generic Prescott kernels on a CPU with \($0 == "SkylakeX" ? "AVX-512" : "AVX2"); "
                + "export OPENBLAS_CORETYPE=\($0) before starting secura-dist (sgemm runs several times faster)"
        }
    }

    /// Sum-reduces a seeded vector that differs per rank and reports whether every rank received
    /// bit-identical sums (the Communicator contract; MPI itself does not promise it).
    public static func allReduceIsIdentical(communicator: Communicator, count: Int = 10_000) throws -> Bool {
        var values = (0..<count).map { seededValue(seed: 99, row: communicator.rank, column: $0) * 1e3 }
        try communicator.allReduceSum(&values)
        var doubles = values.map { Double($0) / 3 }
        try communicator.allReduceSum(&doubles)
        var digest: UInt64 = 0xCBF2_9CE4_8422_2325
        for array in [values.withUnsafeBytes { Array($0) }, doubles.withUnsafeBytes { Array($0) }] {
            for byte in array { digest = (digest ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        }
        let digests = try communicator.allGather(bytes: withUnsafeBytes(of: digest) { Array($0) })
        return digests.allSatisfy { $0 == digests[0] }
    }

    /// A reproducible value in [−1, 1) for element (row, column), from a 64-bit mix of the seed and the
    /// position, so any rank can generate any element without generating the others.
    public static func seededValue(seed: UInt64, row: Int, column: Int) -> Float {
        var z = seed &+ UInt64(row) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(column) &* 0xC2B2_AE3D_27D4_EB4F
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Float(z >> 40) / Float(1 << 23) - 1
    }

    /// Multiplies seeded m×k and k×n matrices with cblas_sgemm and with a naive double-precision loop.
    /// - Returns: the maximum of |sgemm − naive| / max(1, |naive|) over all entries.
    public static func sgemmMaxError(m: Int = 64, n: Int = 48, k: Int = 80, seed: UInt64 = 7) -> Double {
        let a = (0..<m * k).map { seededValue(seed: seed, row: $0 / k, column: $0 % k) }
        let b = (0..<k * n).map { seededValue(seed: seed &+ 1, row: $0 / n, column: $0 % n) }
        var c = [Float](repeating: 0, count: m * n)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1,
                    a, Int32(k), b, Int32(n), 0, &c, Int32(n))
        var worst = 0.0
        for i in 0..<m {
            for j in 0..<n {
                var reference = 0.0
                for p in 0..<k { reference += Double(a[i * k + p]) * Double(b[p * n + j]) }
                worst = max(worst, abs(Double(c[i * n + j]) - reference) / max(1, abs(reference)))
            }
        }
        return worst
    }

    /// What `svdCheck` measured. Comparisons against LAPACK are made on rank 0 only (nil elsewhere).
    public struct SVDReport {
        public var rows: Int
        public var columns: Int
        /// The routine that ran (ScaLAPACK or, in a plain process, LAPACK).
        public var method: String
        public var grid: ProcessGrid
        public var blockSize: Int
        /// max_i |s_i − s_ref,i| / s_ref,0 against LAPACK (rank 0).
        public var singularValueError: Double?
        /// max |U·diag(S)·Vᵀ − A| / max |A| for the distributed result (rank 0).
        public var reconstructionError: Double?
        /// The same for the single-process LAPACK result, as a baseline (rank 0).
        public var lapackReconstructionError: Double?
        /// max |U[:r,:]·diag(S)·Vᵀ[:,:c] − A[:r,:c]| / max |A| from a call asking for parts only (rank 0).
        public var leadingBlockError: Double?
        /// max_i |s_i − s_full,i| / s_full,0 for a call asking for no vectors (rank 0).
        public var valuesOnlyError: Double?
        /// Whether every rank returned bit-identical S, U and Vᵀ.
        public var identicalOnAllRanks: Bool
    }

    /// Runs the distributed SVD of a seeded `rows × columns` matrix on every rank and checks it.
    public static func svdCheck(communicator: Communicator, rows: Int = 96, columns: Int = 80,
                                seed: UInt64 = 42, blockSize: Int? = nil) throws -> SVDReport {
        let solver = ScaLAPACKSVD(communicator: communicator, blockSize: blockSize)
        let fill: MatrixRowFill = { row, range, into in
            for (offset, column) in range.enumerated() {
                into[offset] = seededValue(seed: seed, row: row, column: column)
            }
        }
        let full = try solver.svd(rows: rows, columns: columns, parts: .all, fill: fill)
        let (r, c) = (min(16, rows), min(24, columns))
        let leading = try solver.svd(rows: rows, columns: columns, parts: SVDParts(uRows: r, vtColumns: c), fill: fill)
        let valuesOnly = try solver.svd(rows: rows, columns: columns, parts: SVDParts(uRows: 0, vtColumns: 0), fill: fill)
        let plan = solver.plan(rows: rows, columns: columns)

        let digest = fingerprint(full) ^ (fingerprint(leading) &* 31) ^ (fingerprint(valuesOnly) &* 961)
        let digests = try communicator.allGather(bytes: withUnsafeBytes(of: digest) { Array($0) })
        var report = SVDReport(rows: rows, columns: columns, method: solver.method, grid: plan.grid, blockSize: plan.blockSize,
                               identicalOnAllRanks: digests.allSatisfy { $0 == digests[0] })
        guard communicator.isRoot else { return report }

        let matrix = (0..<rows * columns).map { seededValue(seed: seed, row: $0 / columns, column: $0 % columns) }
        let scale = Double(matrix.map { abs($0) }.max() ?? 1)
        let reference = try LAPACKSVD().svd(rows: rows, columns: columns, parts: .all, fill: fill)
        report.singularValueError = relativeDifference(full.singularValues, reference.singularValues)
        report.valuesOnlyError = relativeDifference(valuesOnly.singularValues, full.singularValues)
        report.reconstructionError = maxDifference(product(full, rows: rows, columns: columns), matrix) / scale
        report.lapackReconstructionError = maxDifference(product(reference, rows: rows, columns: columns), matrix) / scale
        let block = (0..<r * c).map { matrix[($0 / c) * columns + $0 % c] }
        report.leadingBlockError = maxDifference(product(leading, rows: r, columns: c), block) / scale
        return report
    }

    /// U[:rows,:]·diag(S)·Vᵀ[:,:columns] in double precision, row-major.
    static func product(_ svd: SVDResult, rows: Int, columns: Int) -> [Double] {
        let k = svd.rank
        var out = [Double](repeating: 0, count: rows * columns)
        for i in 0..<rows {
            for p in 0..<k {
                let left = Double(svd.u[i * k + p]) * Double(svd.singularValues[p])
                for j in 0..<columns { out[i * columns + j] += left * Double(svd.vt[p * svd.vtColumns + j]) }
            }
        }
        return out
    }

    /// max_i |a_i − b_i| / max(b_0, tiny): singular-value error relative to the largest one.
    static func relativeDifference(_ a: [Float], _ b: [Float]) -> Double {
        let scale = max(Double(b.first ?? 0), Double(Float.leastNormalMagnitude))
        return (zip(a, b).map { abs(Double($0) - Double($1)) }.max() ?? 0) / scale
    }

    static func maxDifference(_ a: [Double], _ b: [Float]) -> Double {
        zip(a, b).map { abs($0 - Double($1)) }.max() ?? 0
    }

    /// FNV-1a over the bytes of S, U and Vᵀ: equal digests mean (almost surely) identical results.
    static func fingerprint(_ svd: SVDResult) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for array in [svd.singularValues, svd.u, svd.vt] {
            array.withUnsafeBytes { bytes in
                for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            }
        }
        return hash
    }
}
