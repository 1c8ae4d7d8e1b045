import CDNNL
import Foundation

/// The two products of attention in bf16 for a group of heads at once — scores `Q·Kᵀ` and
/// output `P·V` — as batched oneDNN matmuls on head-major bfloat16 copies of q, k and v
/// (``BFloat16/splitHeads``: each head's tokens × head size dense, so oneDNN picks its brgemm
/// (AMX / AVX-512) kernels; on q and k inside the fused qkv rows, or writing into the attention
/// rows, it fell back to its generic GEMM, about 3× slower there). One pair of primitives per shape, shared by every thread.
///
/// `@unchecked Sendable`: the primitive cache is guarded by `lock`, and a primitive is immutable once made.
final class BFloat16AttentionProducts: @unchecked Sendable {
    /// The pair for one shape.
    struct Pair {
        /// (heads, tokens, tokens) float32 scores from q and k.
        let scores: MatmulPrimitive
        /// (heads, tokens, headDim) float32, dense, from bf16 probabilities and v (a strided
        /// destination inside the attention rows sends oneDNN to its generic GEMM).
        let output: MatmulPrimitive
    }

    private struct Shape: Hashable { let tokens: Int, hidden: Int, headDim: Int, heads: Int }

    static let shared = BFloat16AttentionProducts()
    private var pairs: [Shape: Pair] = [:]
    private let lock = NSLock()

    /// Scores held at most per call (floats): heads are grouped so the group's scores fit.
    static let scoreBudget = 1 << 23

    /// How many of `heads` heads one call takes for `tokens` tokens: the largest divisor of
    /// `heads` whose scores fit ``scoreBudget`` (at least 1).
    static func headsPerCall(heads: Int, tokens: Int) -> Int {
        (1...max(heads, 1)).last { heads % $0 == 0 && $0 * tokens * tokens <= scoreBudget } ?? 1
    }

    /// The primitives for `tokens` tokens, hidden size `hidden`, head size `headDim` and groups of
    /// `heads` heads.
    func pair(tokens n: Int, hidden d: Int, headDim dh: Int, heads g: Int) -> Pair {
        let shape = Shape(tokens: n, hidden: d, headDim: dh, heads: g)
        lock.lock()
        defer { lock.unlock() }
        if let p = pairs[shape] { return p }
        var q = dnnl_memory_desc_t(), kT = dnnl_memory_desc_t(), s = dnnl_memory_desc_t()
        var p = dnnl_memory_desc_t(), v = dnnl_memory_desc_t(), o = dnnl_memory_desc_t()
        let (n64, d64, dh64, g64) = (Int64(n), Int64(d), Int64(dh), Int64(g))
        fit_dnnl_batched(&q, g64, n64, dh64, n64 * dh64, dh64, 1, dnnl_bf16)
        fit_dnnl_batched(&kT, g64, dh64, n64, n64 * dh64, 1, dh64, dnnl_bf16)
        fit_dnnl_batched(&s, g64, n64, n64, n64 * n64, n64, 1, dnnl_f32)
        fit_dnnl_batched(&p, g64, n64, n64, n64 * n64, n64, 1, dnnl_bf16)
        fit_dnnl_batched(&v, g64, n64, dh64, n64 * dh64, dh64, 1, dnnl_bf16)
        fit_dnnl_batched(&o, g64, n64, dh64, n64 * dh64, dh64, 1, dnnl_f32)
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
