/// A fully connected layer over weights in PyTorch's (out, in) layout: `y = x · Wᵀ + b`.
///
/// In float32 the weight is used in place and the product is one `cblas_sgemm` with the weight
/// transposed in the call; in bf16 it is a oneDNN matmul on a packed bfloat16 copy
/// (``BFloat16Linear``), and the float32 weight is no longer referenced.
struct Linear: Sendable {
    /// Where the weight lives and which library multiplies by it.
    enum Weight: Sendable {
        case float32(Tensor)
        case bfloat16(BFloat16Linear)
    }

    let weight: Weight
    let bias: Tensor?
    let outFeatures: Int
    let inFeatures: Int

    /// A float32 layer on `weight` (out, in) and the optional `bias` (out).
    init(weight: Tensor, bias: Tensor?) {
        self.weight = .float32(weight)
        self.bias = bias
        outFeatures = weight.shape[0]
        inFeatures = weight.shape[1]
    }

    private init(packed: BFloat16Linear, bias: Tensor?) {
        weight = .bfloat16(packed)
        self.bias = bias
        outFeatures = packed.outFeatures
        inFeatures = packed.inFeatures
    }

    /// The same layer computing in `precision` (bf16 packs the weight once, here).
    func converted(to precision: Precision) throws -> Linear {
        switch (precision, weight) {
        case (.bf16, .float32(let w)):
            let packed = try BFloat16Linear(weight: w, bias: bias)
            w.storage.releaseFileBackedPages()   // keeps the peak at about the packed size
            return Linear(packed: packed, bias: bias)
        default: return self
        }
    }

    /// Applies the layer to `rows` rows of `x` (stride `inFeatures`), writing rows of `y`
    /// with stride `ldy` (default `outFeatures`).
    func apply(_ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, ldy: Int? = nil) {
        let ldy = ldy ?? outFeatures
        switch weight {
        case .bfloat16(let packed):
            packed.apply(x, rows: rows, into: y, ldy: ldy)
        case .float32(let w):
            BLAS.gemmTransposedB(m: rows, n: outFeatures, k: inFeatures, a: x, lda: inFeatures,
                                 b: w.data, ldb: inFeatures, c: y, ldc: ldy)
            guard let bias else { return }
            let n = outFeatures
            Parallel.forEachChunk(count: rows, minimumChunk: max(1, 65_536 / max(n, 1))) { range in
                for r in range { Kernels.add(bias.data, to: y + r * ldy, count: n) }
            }
        }
    }
}
