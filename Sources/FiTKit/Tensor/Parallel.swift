import CBLAS
import Dispatch

/// Thread settings shared by OpenBLAS and the elementwise kernels.
public enum Parallel {
    /// (`nonisolated(unsafe)`: set at start-up, or by a front end between generations, never while
    /// a kernel runs: the same rule OpenBLAS's own thread setting has.)
    nonisolated(unsafe) private static var width = 1

    /// Number of threads elementwise loops use (the same number OpenBLAS uses).
    public static var threads: Int { width }

    /// Sets OpenBLAS's thread count and the width of ``forEachChunk(count:minimumChunk:_:)``.
    public static func setThreads(_ n: Int) {
        width = Swift.max(1, n)
        openblas_set_num_threads(Int32(width))
    }

    /// Runs `body` with OpenBLAS limited to `n` threads, then restores ``threads``. Code that
    /// parallelises over its own work items (each calling `cblas_sgemm` on one thread) uses this
    /// so OpenBLAS's own threads do not compete with it for the cores.
    public static func withBLASThreads<T>(_ n: Int, _ body: () throws -> T) rethrows -> T {
        openblas_set_num_threads(Int32(n))
        defer { openblas_set_num_threads(Int32(width)) }
        return try body()
    }

    /// Runs `body` over `0..<count` split into at most ``threads`` contiguous ranges; work
    /// smaller than `minimumChunk` per thread runs on the calling thread.
    public static func forEachChunk(count: Int, minimumChunk: Int = 8, _ body: (Range<Int>) -> Void) {
        let chunks = Swift.min(width, count / Swift.max(minimumChunk, 1))
        if chunks <= 1 { body(0..<count); return }
        // `body` is not Sendable (callers capture pointers into their buffers). Safe: every call
        // gets its own range and callers write only inside it, and concurrentPerform returns only
        // after the last call, so `body` never outlives this function.
        withoutActuallyEscaping(body) { body in
            let shared = UncheckedSendableBox(body)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                let lo = count * c / chunks, hi = count * (c + 1) / chunks
                shared.value(lo..<hi)
            }
        }
    }
}

/// Hands a value that is not `Sendable` to other threads. Each use says why that is safe.
struct UncheckedSendableBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
