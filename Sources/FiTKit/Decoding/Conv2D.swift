/// A 2-D convolution (3×3 with padding 1, or 1×1) over one image in (C, H, W) layout, on
/// `cblas_sgemm` with the weight in PyTorch's (out, in, k, k) layout used in place.
///
/// A 3×3 convolution gathers its input patches one strip of output rows at a time (a bounded
/// im2col, never the whole image) and multiplies the weight, seen as an (out × in·9) matrix,
/// by the strip. `upsampling: true` reads the input through a nearest-neighbour ×2 upsample
/// inside that gather, so the upsampled image is never stored.
struct Conv2D: Sendable {
    let weight: Tensor
    let bias: Tensor

    var outChannels: Int { weight.shape[0] }
    var inChannels: Int { weight.shape[1] }
    var kernelSize: Int { weight.shape[2] }

    /// Most floats one strip's patch matrix may hold (32 MiB).
    static let stripBudget = 8 << 20

    /// Convolves `input` (inChannels, h, w) into `output` (outChannels, h·s, w·s), s = 2 when
    /// `upsampling`, else 1. With `accumulate`, the result is added to what `output` holds.
    func apply(_ input: UnsafePointer<Float>, height h: Int, width w: Int, upsampling: Bool = false,
               into output: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
        let scale = upsampling ? 2 : 1
        let oh = h * scale, ow = w * scale, pixels = oh * ow
        if kernelSize == 1 {
            precondition(!upsampling, "a 1×1 convolution does not upsample")
            BLAS.gemm(m: outChannels, n: pixels, k: inChannels, a: weight.data, lda: inChannels,
                      b: input, ldb: pixels, beta: accumulate ? 1 : 0, c: output, ldc: pixels)
            addBias(output, pixels: pixels, columns: 0..<pixels)
            return
        }
        let k = inChannels * 9
        let rowsPerStrip = max(1, min(oh, Self.stripBudget / max(k * ow, 1)))
        let patches = TensorStorage(zeros: k * rowsPerStrip * ow)
        var y0 = 0
        while y0 < oh {
            let y1 = min(oh, y0 + rowsPerStrip)
            let n = (y1 - y0) * ow
            gatherPatches(input, height: h, width: w, scale: scale, rows: y0..<y1, into: patches.pointer)
            BLAS.gemm(m: outChannels, n: n, k: k, a: weight.data, lda: k, b: patches.pointer, ldb: n,
                      beta: accumulate ? 1 : 0, c: output + y0 * ow, ldc: pixels)
            addBias(output, pixels: pixels, columns: (y0 * ow)..<(y1 * ow))
            y0 = y1
        }
    }

    /// Writes the (inChannels·9 × rows·ow) patch matrix of output rows `rows`: row
    /// `c·9 + ky·3 + kx` holds input channel c shifted by (ky − 1, kx − 1), zero outside.
    private func gatherPatches(_ input: UnsafePointer<Float>, height h: Int, width w: Int, scale: Int,
                               rows: Range<Int>, into patches: UnsafeMutablePointer<Float>) {
        let oh = h * scale, ow = w * scale, n = rows.count * ow
        Parallel.forEachChunk(count: inChannels, minimumChunk: 4) { channels in
            for c in channels {
                let plane = input + c * h * w
                for ky in 0..<3 {
                    for kx in 0..<3 {
                        var dst = patches + (c * 9 + ky * 3 + kx) * n
                        for y in rows {
                            let sy = y + ky - 1
                            if sy < 0 || sy >= oh { dst.update(repeating: 0, count: ow); dst += ow; continue }
                            let src = plane + (sy / scale) * w
                            // Columns whose source x + kx − 1 falls outside the image are zero.
                            let first = kx == 0 ? 1 : 0, last = kx == 2 ? ow - 1 : ow
                            if first == 1 { dst[0] = 0 }
                            if last == ow - 1 { dst[ow - 1] = 0 }
                            if scale == 1 {
                                (dst + first).update(from: src + first + kx - 1, count: last - first)
                            } else {
                                for x in first..<last { dst[x] = src[(x + kx - 1) >> 1] }
                            }
                            dst += ow
                        }
                    }
                }
            }
        }
    }

    private func addBias(_ output: UnsafeMutablePointer<Float>, pixels: Int, columns: Range<Int>) {
        let b = bias.data, count = columns.count
        Parallel.forEachChunk(count: outChannels, minimumChunk: max(1, 65_536 / max(count, 1))) { range in
            for o in range { Kernels.addScalar(b[o], to: output + o * pixels + columns.lowerBound, count: count) }
        }
    }
}
