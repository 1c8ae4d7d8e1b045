/// A fully connected layer over weights in PyTorch's (out, in) layout, used in place:
/// `y = x · Wᵀ + b` as one `cblas_sgemm` with the weight transposed in the call.
struct Linear: Sendable {
    let weight: Tensor
    let bias: Tensor?

    var outFeatures: Int { weight.shape[0] }
    var inFeatures: Int { weight.shape[1] }

    /// Applies the layer to `rows` rows of `x` (stride `inFeatures`), writing rows of `y`
    /// with stride `ldy` (default `outFeatures`).
    func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, ldy: Int? = nil) {
        let ldy = ldy ?? outFeatures
        BLAS.gemmTransposedB(m: rows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures,
                             b: weight.data, ldb: inFeatures, c: y, ldc: ldy)
        guard let bias else { return }
        let n = outFeatures
        Parallel.forEachChunk(count: rows, minimumChunk: max(1, 65_536 / max(n, 1))) { range in
            for r in range { Kernels.add(bias.data, to: y + r * ldy, count: n) }
        }
    }
}
