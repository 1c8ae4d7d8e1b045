import CDNNL
import Foundation

/// The two products of attention in bf16 for a group of heads and a block of query rows at once —
/// scores `Q·Kᵀ` and output `P·V` — as batched oneDNN matmuls on head-major bfloat16 copies of q, k and v
/// (``BFloat16/splitHeads``: each head's tokens × head size dense, so oneDNN picks its brgemm
/// (AMX / AVX-512) kernels; on q and k inside the fused qkv rows, or writing into the attention
/// rows, it fell back to its generic GEMM, about 3× slower there). One pair of primitives per shape, shared by every thread.
///
/// `@unchecked Sendable`: the primitive cache is guarded by `lock`, and a primitive is immutable once made.
final class BFloat16AttentionProducts: @unchecked Sendable {
    /// The pair for one shape.
    struct Pair {
        /// (heads, queries, tokens) float32 scores from q and k.
        let scores: MatmulPrimitive
        /// (heads, queries, headDim) float32, dense, from bf16 probabilities and v (a strided
        /// destination inside the attention rows sends oneDNN to its generic GEMM).
        let output: MatmulPrimitive
    }

    private struct Shape: Hashable { let tokens: Int, queries: Int, headDim: Int, heads: Int }

    static let shared = BFloat16AttentionProducts()
    private var pairs: [Shape: Pair] = [:]
    private let lock = NSLock()

    /// Scores held at most per call (floats): heads and query rows are grouped so that one call's
    /// float32 scores (2 MB) stay near the core between the product that writes them, the softmax
    /// and the product that reads them, instead of a head group's whole score matrix (32 MB at
    /// 1024 tokens) going through memory three times. FiTv2-XL bf16 forward at 1024 tokens, AMX,
    /// alternating runs on a noisy host: 2 threads 4.5–6.8 s against 6.0–7.1 s with whole
    /// matrices (and 7.1–7.9 s with 512 KB blocks: too many small calls for two threads).
    static let scoreBudget = 1 << 19
    /// Query rows per call at least, so that the products stay large enough to run at full rate.
    static let minimumQueries = 128

    /// How one call slices the work for `heads` heads and `tokens` tokens: `heads` per call (a
    /// divisor of the heads) and `queries` query rows per call (all tokens when they fit).
    static func slicing(heads: Int, tokens n: Int) -> (heads: Int, queries: Int) {
        let queries = n * n <= scoreBudget ? n : min(n, max(minimumQueries, scoreBudget / n))
        let group = (1...max(heads, 1)).last { heads % $0 == 0 && $0 * queries * n <= scoreBudget } ?? 1
        return (group, queries)
    }

    /// The primitives for `tokens` keys, `queries` query rows, head size `headDim` and groups of
    /// `heads` heads (q and the results are dense per head; q's heads are
    /// `tokens` rows apart, as in ``BFloat16/splitHeads``).
    func pair(tokens n: Int, queries m: Int, headDim dh: Int, heads g: Int) -> Pair {
        let shape = Shape(tokens: n, queries: m, headDim: dh, heads: g)
        lock.lock()
        defer { lock.unlock() }
        if let p = pairs[shape] { return p }
        var q = dnnl_memory_desc_t(), kT = dnnl_memory_desc_t(), s = dnnl_memory_desc_t()
        var p = dnnl_memory_desc_t(), v = dnnl_memory_desc_t(), o = dnnl_memory_desc_t()
        let (n64, m64, dh64, g64) = (Int64(n), Int64(m), Int64(dh), Int64(g))
        fit_dnnl_batched(&q, g64, m64, dh64, n64 * dh64, dh64, 1, dnnl_bf16)
        fit_dnnl_batched(&kT, g64, dh64, n64, n64 * dh64, 1, dh64, dnnl_bf16)
        fit_dnnl_batched(&s, g64, m64, n64, m64 * n64, n64, 1, dnnl_f32)
        fit_dnnl_batched(&p, g64, m64, n64, m64 * n64, n64, 1, dnnl_bf16)
        fit_dnnl_batched(&v, g64, n64, dh64, n64 * dh64, dh64, 1, dnnl_bf16)
        fit_dnnl_batched(&o, g64, m64, dh64, m64 * dh64, dh64, 1, dnnl_f32)
        do {
            let pair = Pair(scores: try MatmulPrimitive(source: q, weights: kT, bias: nil, destination: s),
                            output: try MatmulPrimitive(source: p, weights: v, bias: nil, destination: o))
            pairs[shape] = pair
            return pair
        } catch {
            preconditionFailure("oneDNN refused the bf16 attention products for \(n) tokens, head size \(dh): \(error)")
        }
    }
}
