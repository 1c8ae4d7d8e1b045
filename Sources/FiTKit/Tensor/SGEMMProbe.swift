import Foundation

/// Measures this machine's `cblas_sgemm` rate on one shape, for benchmarks that report their
/// speed as a share of it.
public enum SGEMMProbe {
    /// The best rate of several `C[m×n] = A[m×k]·B[n×k]ᵀ` calls (after one warm-up), in GFLOP/s.
    public static func peak(m: Int, n: Int, k: Int, repetitions: Int = 5) -> (m: Int, n: Int, k: Int, gflops: Double) {
        let a = Tensor(zeros: [m, k]), b = Tensor(zeros: [n, k]), c = Tensor(zeros: [m, n])
        for i in 0..<a.count { a.data[i] = Float(i % 7) * 0.1 }
        for i in 0..<b.count { b.data[i] = Float(i % 5) * 0.1 }
        var best = Double.infinity
        for r in 0...repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            BLAS.gemmTransposedB(m: m, n: n, k: k, a: a.data, lda: k, b: b.data, ldb: k, c: c.data, ldc: n)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if r > 0 { best = min(best, seconds) }
        }
        return (m, n, k, 2 * Double(m) * Double(n) * Double(k) / best / 1e9)
    }
}
