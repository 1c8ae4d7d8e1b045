import Foundation

/// Measures this machine's matrix-product rate on one shape — `cblas_sgemm` in fp32, oneDNN's
/// bf16 matmul on packed weights in bf16 — for benchmarks that report their speed as a share of it.
public enum SGEMMProbe {
    /// The best rate of several `C[m×n] = A[m×k]·B[n×k]ᵀ` products (after one warm-up), in GFLOP/s.
    public static func peak(m: Int, n: Int, k: Int, precision: Precision = .fp32,
                            repetitions: Int = 5) -> (m: Int, n: Int, k: Int, gflops: Double) {
        let a = Tensor(zeros: [m, k]), b = Tensor(zeros: [n, k]), c = Tensor(zeros: [m, n])
        for i in 0..<a.count { a.data[i] = Float(i % 7) * 0.1 }
        for i in 0..<b.count { b.data[i] = Float(i % 5) * 0.1 }
        let product: () -> Void
        switch precision {
        case .fp32:
            product = { BLAS.gemmTransposedB(m: m, n: n, k: k, a: a.data, lda: k, b: b.data, ldb: k, c: c.data, ldc: n) }
        case .bf16:
            guard let packed = try? BFloat16Linear(weight: b, bias: nil) else { return (m, n, k, .nan) }
            let a16 = BFloat16Buffer(count: m * k)
            BFloat16.convert(a.data, rows: m, columns: k, sourceStride: k, into: a16.pointer, destinationStride: k)
            product = { packed.multiply(a16.pointer, rows: m, into: c.data, ldy: n) }
        }
        var best = Double.infinity
        for r in 0...repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            product()
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            if r > 0 { best = min(best, seconds) }
        }
        return (m, n, k, 2 * Double(m) * Double(n) * Double(k) / best / 1e9)
    }
}
