/// A 3×3 convolution's weights in the Winograd F(2×2, 3×3) domain: `U = G g Gᵀ` for every
/// (out, in) kernel, stored as 16 (out × in) matrices so that each of the 16 products is one
/// GEMM. Made once when the decoder is built; the checkpoint's weights are read only here.
///
/// `@unchecked Sendable`: its storage is written once in `init` and only read after.
struct WinogradWeights: @unchecked Sendable {
    /// 16 · outChannels · inChannels floats: matrix ξ at `ξ · out · in`.
    let storage: TensorStorage

    /// Transforms PyTorch's (out, in, 3, 3) `weight`.
    init(_ weight: Tensor) {
        let (o, i) = (weight.shape[0], weight.shape[1])
        storage = TensorStorage(uninitialized: 16 * o * i)
        let u = storage.pointer, g = weight.data, plane = o * i
        Parallel.forEachChunk(count: o, minimumChunk: 1) { range in
            for out in range {
                for input in 0..<i {
                    let k = g + (out * i + input) * 9
                    // G g (4×3): rows g0, (g0+g1+g2)/2, (g0−g1+g2)/2, g2 over the kernel's rows.
                    var gg = (SIMD4<Float>(), SIMD4<Float>(), SIMD4<Float>(), SIMD4<Float>())
                    let r0 = SIMD4<Float>(k[0], k[1], k[2], 0), r1 = SIMD4<Float>(k[3], k[4], k[5], 0)
                    let r2 = SIMD4<Float>(k[6], k[7], k[8], 0)
                    gg = (r0, (r0 + r1 + r2) * 0.5, (r0 - r1 + r2) * 0.5, r2)
                    // (G g) Gᵀ: the same combination along each row.
                    for (row, v) in [gg.0, gg.1, gg.2, gg.3].enumerated() {
                        let values = SIMD4<Float>(v[0], (v[0] + v[1] + v[2]) * 0.5, (v[0] - v[1] + v[2]) * 0.5, v[2])
                        for col in 0..<4 { u[(row * 4 + col) * plane + out * i + input] = values[col] }
                    }
                }
            }
        }
    }
}
