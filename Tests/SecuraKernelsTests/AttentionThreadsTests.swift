// Attention's tasks (one per sequence and head forward, one per sequence and key/value head backward) on
// several workers give the bits of one worker, for plain causal attention and for Gemma2's capped, sliding
// attention, and leave OpenBLAS's thread count as it was.
import XCTest
import SecuraTensor
import TestSupport
@testable import SecuraKernels

final class AttentionThreadsTests: XCTestCase {
    struct Result: Equatable {
        var out: [Float], probs: [Float], dq: [Float], dk: [Float], dv: [Float]
    }

    func run(_ shape: Attention.Shape, threads: Int) -> Result {
        let savedParallel = Parallel.threads, savedBLAS = BLAS.threads
        defer { Parallel.threads = savedParallel; BLAS.setThreads(savedBLAS) }
        Parallel.threads = threads
        BLAS.setThreads(threads)
        let pool = BufferPool()
        defer { pool.keepAlive() }
        let qCount = shape.batch * shape.tokens * shape.heads * shape.headDim
        let kvCount = shape.batch * shape.tokens * shape.kvHeads * shape.headDim
        var rng = SeededRandom(seed: 21)
        let q = pool(rng.normals(qCount)), k = pool(rng.normals(kvCount)), v = pool(rng.normals(kvCount))
        let probe = pool(rng.normals(qCount))
        let out = FloatBuffer(count: qCount), probs = FloatBuffer(count: shape.probsCount)
        Attention.forward(out: out.pointer, probs: probs.pointer, q: q, k: k, v: v, shape: shape)
        let dq = FloatBuffer(count: qCount), dk = FloatBuffer(count: kvCount), dv = FloatBuffer(count: kvCount)
        Attention.backward(dQ: dq.pointer, dK: dk.pointer, dV: dv.pointer, dOut: probe, probs: probs.pointer,
                           q: q, k: k, v: v, shape: shape)
        XCTAssertEqual(BLAS.threads, min(threads, BLAS.cores), "OpenBLAS's thread count restored after the tasks")
        return Result(out: out.toArray(), probs: probs.toArray(), dq: dq.toArray(), dk: dk.toArray(), dv: dv.toArray())
    }

    func assertSameBits(_ shape: Attention.Shape, _ label: String) {
        let one = run(shape, threads: 1)
        XCTAssertFalse(one.dk.allSatisfy { $0 == 0 }, "\(label): a non-trivial case")
        for threads in [2, 3] {
            let many = run(shape, threads: threads)
            for (name, a, b) in [("out", one.out, many.out), ("probs", one.probs, many.probs), ("dQ", one.dq, many.dq),
                                 ("dK", one.dk, many.dk), ("dV", one.dv, many.dv)] {
                XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern), "\(label), \(threads) workers: \(name)")
            }
        }
    }

    func testGroupedQueryAttentionIsBitIdenticalOnSeveralWorkers() {
        // Three heads per key/value head: the group's heads add into the same dK and dV columns.
        assertSameBits(Attention.Shape(batch: 2, tokens: 37, heads: 6, kvHeads: 2, headDim: 16), "causal")
    }

    func testCappedSlidingAttentionIsBitIdenticalOnSeveralWorkers() {
        assertSameBits(Attention.Shape(batch: 1, tokens: 29, heads: 4, kvHeads: 2, headDim: 8,
                                       scale: 0.3, softcap: 5, window: 7), "capped, sliding")
    }

    func testTasksRunEachIndexOnceAndRestoreBLASThreads() {
        let savedParallel = Parallel.threads, savedBLAS = BLAS.threads
        defer { Parallel.threads = savedParallel; BLAS.setThreads(savedBLAS) }
        Parallel.threads = 2
        BLAS.setThreads(2)
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: 11)
        counts.initialize(repeating: 0, count: 11)
        defer { counts.deallocate() }
        var blasInside = [Int](repeating: 0, count: 11)
        blasInside.withUnsafeMutableBufferPointer { inside in
            let inside = inside.baseAddress!
            Parallel.forEachTask(11) { i in
                counts[i] += 1
                inside[i] = BLAS.threads
            }
        }
        XCTAssertEqual(Array(UnsafeBufferPointer(start: counts, count: 11)), [Int](repeating: 1, count: 11))
        XCTAssertEqual(blasInside, [Int](repeating: 1, count: 11), "OpenBLAS at one thread inside the tasks")
        XCTAssertEqual(BLAS.threads, min(2, BLAS.cores))
    }
}
