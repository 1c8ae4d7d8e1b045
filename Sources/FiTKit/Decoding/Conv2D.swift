/// A 2-D convolution (3×3 with padding 1, or 1×1) over one image in (C, H, W) layout, on
/// `cblas_sgemm`.
///
/// A 1×1 convolution is one GEMM with the weight in PyTorch's (out, in) layout used in place.
/// A 3×3 convolution runs as Winograd F(2×2, 3×3) (``applyWinograd(_:height:width:scale:into:accumulate:)``)
/// on weights transformed once at load, one strip of output rows at a time, so its memory stays
/// bounded; `upsampling: true` reads the input through a nearest-neighbour ×2 upsample while
/// gathering, so the upsampled image is never stored.
struct Conv2D: Sendable {
    let outChannels: Int
    let inChannels: Int
    let kernelSize: Int
    let bias: Tensor
    /// The 1×1 weight, (out, in) in place (nil for 3×3).
    let pointwise: Tensor?
    /// The 3×3 weights in the Winograd domain (nil for 1×1 and for oneDNN); the original is not kept.
    let winograd: WinogradWeights?
    /// The 3×3 convolution as a oneDNN primitive (bf16; nil for 1×1 and for Winograd).
    let oneDNN: OneDNNConvolution?

    /// A convolution with PyTorch's (out, in, k, k) `weight`, k 1 or 3. A 3×3 convolution runs
    /// as Winograd on OpenBLAS in fp32 and as a oneDNN primitive in bf16; 1×1 stays on OpenBLAS.
    init(weight: Tensor, bias: Tensor, precision: Precision = .fp32) throws {
        (outChannels, inChannels, kernelSize) = (weight.shape[0], weight.shape[1], weight.shape[2])
        self.bias = bias
        pointwise = kernelSize == 1 ? weight : nil
        // fp32 stays on Winograd: oneDNN's direct fp32 convolution measured 1.5× slower (docs/cpu.md §4).
        let viaOneDNN = kernelSize == 3 && precision == .bf16
        winograd = kernelSize == 3 && !viaOneDNN ? WinogradWeights(weight) : nil
        oneDNN = viaOneDNN ? try OneDNNConvolution(weight: weight, bias: bias) : nil
    }

    /// Convolves `input` (inChannels, h, w) into `output` (outChannels, h·s, w·s), s = 2 when
    /// `upsampling`, else 1. With `accumulate`, the result is added to what `output` holds. A 3×3
    /// convolution applies `normalizing` (a GroupNorm, with SiLU) to its input as it reads it.
    ///
    /// Threads split the output: each takes its own rows (3×3) or columns (1×1) and runs its
    /// transforms and single-threaded GEMMs on them, so no thread waits for another; run it
    /// inside ``Parallel/withBLASThreads(_:_:)`` with 1.
    func apply(_ input: UnsafePointer<Float>, height h: Int, width w: Int, upsampling: Bool = false,
               normalizing: ChannelAffine? = nil, into output: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
        let scale = upsampling ? 2 : 1
        let oh = h * scale, ow = w * scale, pixels = oh * ow
        if kernelSize == 1 {
            precondition(!upsampling && normalizing == nil, "a 1×1 convolution neither upsamples nor normalises")
            Parallel.forEachChunk(count: pixels, minimumChunk: 256) { columns in
                BLAS.gemm(m: outChannels, n: columns.count, k: inChannels, a: pointwise!.data, lda: inChannels,
                          b: input + columns.lowerBound, ldb: pixels, beta: accumulate ? 1 : 0,
                          c: output + columns.lowerBound, ldc: pixels)
                addBias(output, pixels: pixels, columns: columns)
            }
            return
        }
        if let oneDNN {
            oneDNN.apply(input, height: h, width: w, upsampling: upsampling, normalizing: normalizing, into: output, accumulate: accumulate)
            return
        }
        applyWinograd(input, height: h, width: w, scale: scale, normalizing: normalizing, into: output, accumulate: accumulate)
    }

    private func addBias(_ output: UnsafeMutablePointer<Float>, pixels: Int, columns: Range<Int>) {
        for o in 0..<outChannels { Kernels.addScalar(bias.data[o], to: output + o * pixels + columns.lowerBound, count: columns.count) }
    }
}
