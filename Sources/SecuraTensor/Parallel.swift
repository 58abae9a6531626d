// Parallel loops for the element-wise kernels (the matrix products thread inside OpenBLAS), and tasks that
// each call BLAS on one thread (many small products, such as attention's per-head ones).
import Dispatch

/// A fork-join loop over index ranges, sized by `Parallel.threads`.
public enum Parallel {
    /// Worker count for element-wise kernels; set together with the BLAS threads.
    nonisolated(unsafe) public static var threads: Int = 1

    /// True while `forEachTask`'s workers run (set and cleared by the calling thread only).
    nonisolated(unsafe) static var inTasks = false

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

    /// Runs `body(i)` for every i in 0..<count, each task whole on one of up to `threads` workers, with
    /// OpenBLAS at one thread meanwhile (the previous count is restored): for many products too small to
    /// split well inside OpenBLAS. Worker w runs tasks w, w + W, w + 2W, ... in order, so every task's
    /// arithmetic is a sequential loop's; tasks must write disjoint memory and must not call `forRanges`
    /// (it would nest workers). OpenBLAS computes a product's elements alike on one thread or several (it
    /// splits the output, not the sums), so results do not depend on `threads`.
    /// (A call from inside a task runs its tasks in order on that task's thread.)
    public static func forEachTask(_ count: Int, _ body: (Int) -> Void) {
        let workers = min(threads, count)
        if workers <= 1 || inTasks {
            for i in 0..<count { body(i) }
            return
        }
        let previous = BLAS.threads
        BLAS.setThreads(1)
        inTasks = true
        defer {
            inTasks = false
            BLAS.setThreads(previous)
        }
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var i = w
            while i < count {
                body(i)
                i += workers
            }
        }
    }
}
