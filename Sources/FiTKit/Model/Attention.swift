/// Multi-head self-attention with per-head QK LayerNorm (v2), 2-D RoPE on q and k, the
/// FiT padding mask, and the output projection (keys `attn.qkv`, `attn.proj`).
///
/// q, k and v stay inside the fused qkv buffer: each head's GEMMs address it with a row
/// stride of 3·D, so nothing is copied or permuted.
struct Attention: Sendable {
    let qkv: Linear
    let proj: Linear
    let heads: Int
    let normalizesQK: Bool
    /// Per-dimension weights of the q and k LayerNorms (`qk_norm_weight`), or `nil`.
    let qNormWeight: Tensor?
    let kNormWeight: Tensor?

    /// Attention of ``ForwardPass/normed`` into ``ForwardPass/attention`` (before the projection).
    func callAsFunction(_ pass: ForwardPass) {
        let d = pass.hidden, dh = d / heads, n = pass.tokens, stride = 3 * d
        let qkvData = pass.qkv.data
        qkv.apply(pass.normed.data, rows: pass.rows, into: qkvData)

        // QK-norm and rotation, in place, per token and head.
        Parallel.forEachChunk(count: pass.rows, minimumChunk: 8) { range in
            for r in range {
                let cos = pass.cos.data + (r % n) * dh, sin = pass.sin.data + (r % n) * dh
                for part in 0..<2 {
                    let weight = part == 0 ? qNormWeight : kNormWeight
                    for h in 0..<heads {
                        let p = qkvData + r * stride + part * d + h * dh
                        if normalizesQK { Kernels.layerNorm(p, into: p, count: dh) }
                        if let weight { Kernels.multiply(p, by: weight.data, count: dh) }
                        Self.rotate(p, cos: cos, sin: sin, count: dh)
                    }
                }
            }
        }

        let scale = 1 / Float(dh).squareRoot()
        if case .bfloat16 = qkv.weight {
            attendInBFloat16(pass, scale: scale)
        } else {
            attendInFloat32(pass, scale: scale)
        }
        pass.applyMask(pass.attention, width: d)
    }

    /// The per-head products on OpenBLAS, in float32.
    private func attendInFloat32(_ pass: ForwardPass, scale: Float) {
        let d = pass.hidden, dh = d / heads, n = pass.tokens, stride = 3 * d
        let scores = pass.scores.data
        for b in 0..<pass.batch {
            let base = pass.qkv.data + b * n * stride
            let mask = pass.mask(ofSample: b)
            for h in 0..<heads {
                let q = base + h * dh, k = base + d + h * dh, v = base + 2 * d + h * dh
                BLAS.gemmTransposedB(m: n, n: n, k: dh, alpha: scale, a: q, lda: stride, b: k, ldb: stride,
                                     c: scores, ldc: n)
                Parallel.forEachChunk(count: n, minimumChunk: 16) { range in
                    for i in range {
                        let row = scores + i * n
                        Self.maskScores(row, token: i, mask: mask)
                        Kernels.softmax(row, count: n)
                    }
                }
                BLAS.gemm(m: n, n: dh, k: n, a: scores, lda: n, b: v, ldb: stride,
                          c: pass.attention.data + b * n * d + h * dh, ldc: d)
            }
        }
    }

    /// The products in bf16, a group of heads per call (``BFloat16AttentionProducts``) on
    /// head-major bf16 copies of q, k and v; scaling, masking and softmax stay float32.
    private func attendInBFloat16(_ pass: ForwardPass, scale: Float) {
        let d = pass.hidden, dh = d / heads, n = pass.tokens, batch = pass.batch
        let split = BFloat16Buffer(count: 3 * pass.rows * d)
        BFloat16.splitHeads(pass.qkv.data, batch: batch, tokens: n, hidden: d, heads: heads, into: split.pointer)
        let head = { (part: Int, b: Int, h: Int) in
            split.pointer + BFloat16.headMajorOffset(part: part, sample: b, head: h, batch: batch, heads: self.heads, tokens: n, headSize: dh)
        }
        let (group, queries) = BFloat16AttentionProducts.slicing(heads: heads, tokens: n)
        // one pair of primitives for the full query blocks, another for a shorter last one
        let full = BFloat16AttentionProducts.shared.pair(tokens: n, queries: queries, headDim: dh, heads: group)
        let last = n % queries == 0 ? full
            : BFloat16AttentionProducts.shared.pair(tokens: n, queries: n % queries, headDim: dh, heads: group)
        let scores = ScratchPool.shared.borrow(group * queries * n)
        defer { ScratchPool.shared.giveBack(scores) }
        let probabilities = BFloat16Buffer(count: group * queries * n)
        let output = ScratchPool.shared.borrow(group * queries * dh)
        defer { ScratchPool.shared.giveBack(output) }
        for b in 0..<batch {
            let mask = pass.mask(ofSample: b)
            for h in stride(from: 0, to: heads, by: group) {
                for first in stride(from: 0, to: n, by: queries) {
                    let m = min(queries, n - first)
                    let products = m == queries ? full : last
                    products.scores.run(source: head(0, b, h) + first * dh, weights: head(1, b, h), bias: nil,
                                        destination: scores.pointer)
                    Parallel.forEachChunk(count: group * m, minimumChunk: 16) { range in
                        for r in range {
                            let row = scores.pointer + r * n
                            Self.maskScores(row, token: first + r % m, mask: mask)
                            BFloat16.softmax(row, count: n, scale: scale, into: probabilities.pointer + r * n)
                        }
                    }
                    products.output.run(source: probabilities.pointer, weights: head(2, b, h), bias: nil,
                                        destination: output.pointer)
                    // (group, query rows, head size) → the heads' columns of this sample's attention rows
                    Parallel.forEachChunk(count: m, minimumChunk: 32) { range in
                        for i in range {
                            for g in 0..<group {
                                (pass.attention.data + (b * n + first + i) * d + (h + g) * dh)
                                    .update(from: output.pointer + (g * m + i) * dh, count: dh)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Sets to −∞ the scores in token `i`'s row that pair a real token with padding (`mask`:
    /// one sample's 1/0 per token, `nil` when every token is real).
    @inline(__always)
    static func maskScores(_ row: UnsafeMutablePointer<Float>, token i: Int, mask: [Float]?) {
        guard let mask else { return }
        for j in 0..<mask.count where mask[j] != mask[i] { row[j] = -.infinity }
    }

    /// Interleaved-pair rotation: `(x₂ⱼ, x₂ⱼ₊₁) → (x₂ⱼ·cos − x₂ⱼ₊₁·sin, x₂ⱼ₊₁·cos + x₂ⱼ·sin)`.
    @inline(__always)
    static func rotate(_ p: UnsafeMutablePointer<Float>, cos: UnsafePointer<Float>, sin: UnsafePointer<Float>, count: Int) {
        var j = 0
        while j < count {
            let a = p[j], b = p[j + 1]
            p[j] = a * cos[j] - b * sin[j]
            p[j + 1] = b * cos[j + 1] + a * sin[j + 1]
            j += 2
        }
    }
}
