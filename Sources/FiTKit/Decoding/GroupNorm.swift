/// GroupNorm with affine parameters over one image in (C, H, W) layout, optionally followed by
/// SiLU (the pair every VAE ResNet block opens with).
///
/// Once its statistics are known a GroupNorm is a per-channel `x · a + b` (``ChannelAffine``),
/// which the next convolution applies while it reads its input, so the normalised image is
/// never stored.
struct GroupNorm: Sendable {
    let weight: Tensor
    let bias: Tensor
    let groups: Int
    var eps: Float = 1e-6

    var channels: Int { weight.shape[0] }

    /// The per-channel affine this GroupNorm applies to `input` (channels × height·width). With
    /// `shared`, the statistics come from (or are gathered into) a tiled decode's totals.
    func affine(for input: UnsafePointer<Float>, height: Int, width: Int, silu: Bool,
                shared: TileStatistics? = nil) -> ChannelAffine {
        let pixels = height * width, perGroup = channels / groups
        var statistics = [(mean: Double, inverse: Double)](repeating: (0, 0), count: groups)
        if shared?.phase != .applying {
            statistics.withUnsafeMutableBufferPointer { stats in
                Parallel.forEachChunk(count: groups, minimumChunk: 1) { range in
                    for g in range {
                        // Two passes: the mean, then deviations from it (float64 accumulation).
                        let start = input + g * perGroup * pixels, count = Double(perGroup * pixels)
                        let mean = Kernels.moments(start, count: perGroup * pixels, center: 0).sum / count
                        let m = Kernels.moments(start, count: perGroup * pixels, center: Float(mean))
                        stats[g] = normalization(center: mean, sum: m.sum, squares: m.squares, count: count)
                    }
                }
            }
        }
        if let shared {
            statistics = shared.normalization(for: self, input: input, height: height, width: width, local: statistics)
        }
        var result = ChannelAffine(scale: [], shift: [], silu: silu)
        for c in 0..<channels {
            let (mean, inverse) = statistics[c / perGroup]
            let a = Double(weight.data[c]) * inverse
            result.scale.append(Float(a))
            result.shift.append(Float(Double(bias.data[c]) - mean * a))
        }
        return result
    }

    /// The mean and `1/√(variance + eps)` of `count` values whose deviations from `center` sum to
    /// `sum` and whose squared deviations sum to `squares`.
    func normalization(center: Double, sum: Double, squares: Double, count: Double) -> (mean: Double, inverse: Double) {
        let offset = sum / count
        let variance = max(0, squares / count - offset * offset)
        return (center + offset, 1 / (variance + Double(eps)).squareRoot())
    }

    /// Normalises `input` (channels × height·width) into `output` (which may be `input`).
    func apply(_ input: UnsafePointer<Float>, height: Int, width: Int, into output: UnsafeMutablePointer<Float>, silu: Bool) {
        let affine = affine(for: input, height: height, width: width, silu: silu)
        let pixels = height * width
        Parallel.forEachChunk(count: channels, minimumChunk: 1) { range in
            for c in range { affine.apply(input + c * pixels, into: output + c * pixels, count: pixels, channel: c) }
        }
    }
}

/// Per-channel `x · scale[c] + shift[c]`, then SiLU when `silu`: a GroupNorm with known statistics.
struct ChannelAffine: Sendable {
    var scale: [Float]
    var shift: [Float]
    var silu: Bool

    /// Applies channel `channel`'s affine to `count` values (`input` and `output` may be the same).
    @inline(__always)
    func apply(_ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, count: Int, channel: Int) {
        Kernels.affine(input, into: output, count: count, scale: scale[channel], shift: shift[channel], silu: silu)
    }
}
