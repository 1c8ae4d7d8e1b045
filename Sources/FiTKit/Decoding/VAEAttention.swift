/// The VAE mid block's single-head self-attention over all pixels, with its GroupNorm and
/// residual: `x + out(softmax(q kᵀ / √C) v)`.
///
/// Everything stays channel-major (C × N), so q, k, v and the output projection are GEMMs on the
/// PyTorch (out, in) weights as they are. Queries go in blocks so the score matrix stays small
/// at any resolution.
struct VAEAttention: Sendable {
    let norm: GroupNorm
    let query: Conv2D
    let key: Conv2D
    let value: Conv2D
    let output: Conv2D

    /// Most floats one block of attention scores may hold (8 MiB per thread).
    static let scoreBudget = 2 << 20

    /// Adds attention to `x` (channels × pixels) in place.
    func apply(_ x: UnsafeMutablePointer<Float>, pixels n: Int) {
        let c = norm.channels
        let normed = TensorStorage(zeros: c * n)
        norm.apply(x, height: 1, width: n, into: normed.pointer, silu: false)
        let q = TensorStorage(zeros: c * n), k = TensorStorage(zeros: c * n), v = TensorStorage(zeros: c * n)
        query.apply(normed.pointer, height: 1, width: n, into: q.pointer)
        key.apply(normed.pointer, height: 1, width: n, into: k.pointer)
        value.apply(normed.pointer, height: 1, width: n, into: v.pointer)
        let attended = normed // reuse: the normalised input is no longer needed
        let scale = 1 / Float(c).squareRoot()
        // Threads take their own blocks of queries, each with its own score buffer.
        let block = max(1, min(Self.scoreBudget / n, (n + Parallel.threads - 1) / Parallel.threads))
        let blocks = (n + block - 1) / block
        Parallel.forEachChunk(count: blocks, minimumChunk: 1) { range in
            let scores = TensorStorage(uninitialized: block * n)
            for b in range {
                let i0 = b * block, rows = min(block, n - i0)
                // scores[rows × n] = q[:, i0..]ᵀ · k, scaled.
                BLAS.gemmTransposedA(m: rows, n: n, k: c, alpha: scale, a: q.pointer + i0, lda: n,
                                     b: k.pointer, ldb: n, c: scores.pointer, ldc: n)
                for r in 0..<rows { Kernels.softmax(scores.pointer + r * n, count: n) }
                // attended[:, i0..i0+rows] = v · scoresᵀ.
                BLAS.gemmTransposedB(m: c, n: rows, k: n, a: v.pointer, lda: n, b: scores.pointer, ldb: n,
                                     c: attended.pointer + i0, ldc: n)
            }
        }
        output.apply(attended.pointer, height: 1, width: n, into: x, accumulate: true)
    }
}
