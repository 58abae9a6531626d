// Parallel loops for the element-wise kernels (the matrix products thread inside OpenBLAS).
import Dispatch

/// A fork-join loop over index ranges, sized by `Parallel.threads`.
public enum Parallel {
    /// Worker count for element-wise kernels; set together with the BLAS threads.
    nonisolated(unsafe) public static var threads: Int = 1

    /// Runs `body(range)` over disjoint chunks covering 0..<count. Chunks never call BLAS.
    /// `minChunk` keeps tiny loops on the calling thread.
    public static func forRanges(_ count: Int, minChunk: Int = 64, _ body: (Range<Int>) -> Void) {
        let workers = min(threads, max(1, count / max(1, minChunk)))
        if workers <= 1 {
            body(0..<count)
            return
        }
        let chunk = (count + workers - 1) / workers
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let start = w * chunk
            let end = min(count, start + chunk)
            if start < end { body(start..<end) }
        }
    }
}
