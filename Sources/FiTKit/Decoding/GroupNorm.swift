/// GroupNorm with affine parameters over one image in (C, H, W) layout, optionally followed by
/// SiLU (the pair every VAE ResNet block opens with).
struct GroupNorm: Sendable {
    let weight: Tensor
    let bias: Tensor
    let groups: Int
    var eps: Float = 1e-6

    var channels: Int { weight.shape[0] }

    /// Normalises `input` (channels × height·width) into `output` (which may be `input`). With
    /// `shared`, the statistics come from (or are gathered into) a tiled decode's totals.
    func apply(_ input: UnsafePointer<Float>, height: Int, width: Int, into output: UnsafeMutablePointer<Float>,
               silu: Bool, shared: TileStatistics? = nil) {
        let pixels = height * width, perGroup = channels / groups
        var statistics = [(mean: Double, inverse: Double)](repeating: (0, 0), count: groups)
        if shared?.phase != .applying { statistics.withUnsafeMutableBufferPointer { stats in
            Parallel.forEachChunk(count: groups, minimumChunk: 1) { range in
                for g in range {
                    // Two passes: the mean, then deviations from it (float64 accumulation).
                    let start = input + g * perGroup * pixels, count = Double(perGroup * pixels)
                    let mean = Kernels.moments(start, count: perGroup * pixels, center: 0).sum / count
                    let m = Kernels.moments(start, count: perGroup * pixels, center: Float(mean))
                    let offset = m.sum / count
                    let variance = max(0, m.squares / count - offset * offset)
                    stats[g] = (mean + offset, 1 / (variance + Double(eps)).squareRoot())
                }
            }
        } }
        if let shared {
            statistics = shared.normalization(for: self, input: input, height: height, width: width, local: statistics)
        }
        let gamma = weight.data, beta = bias.data
        Parallel.forEachChunk(count: channels, minimumChunk: 1) { range in
            for c in range {
                let (mean, inverse) = statistics[c / perGroup]
                let a = Double(gamma[c]) * inverse
                Kernels.affine(input + c * pixels, into: output + c * pixels, count: pixels,
                               scale: Float(a), shift: Float(Double(beta[c]) - mean * a), silu: silu)
            }
        }
    }
}
