/// The decode path of an SD-style `AutoencoderKL` (diffusers layout, docs/model.md §7):
/// `post_quant_conv`, `conv_in`, a mid block (ResNet, self-attention, ResNet), up blocks of
/// ResNets with nearest ×2 upsampling, and GroupNorm + SiLU + `conv_out`.
///
/// Weights are bound strictly by their diffusers names (the legacy attention names
/// `query/key/value/proj_attn` are accepted too); encoder tensors are ignored.
///
/// `@unchecked Sendable`: every layer is immutable after `init` (weights only read); per-size primitive caches below it are locked.
public final class VAEDecoder: @unchecked Sendable {
    /// The decoder's shape.
    public let configuration: VAEConfiguration
    /// The precision of its 3×3 convolutions (fp32: Winograd on OpenBLAS; bf16: oneDNN).
    public let precision: Precision
    private let postQuantConv: Conv2D
    private let convIn: Conv2D
    private let midResnets: [VAEResnetBlock]
    private let midAttention: VAEAttention?
    private let upBlocks: [(resnets: [VAEResnetBlock], upsampler: Conv2D?)]
    private let normOut: GroupNorm
    private let convOut: Conv2D

    /// Binds `weights` to `configuration`; a missing, mis-shaped or unexpected decoder tensor is
    /// an error naming it. `precision` bf16 runs the 3×3 convolutions in bf16 through oneDNN
    /// (everything else stays float32).
    public init(configuration: VAEConfiguration, weights: WeightSource, precision: Precision = .fp32) throws {
        try configuration.validate()
        self.configuration = configuration
        self.precision = precision
        let names = try VAEWeightNames(configuration: configuration, available: weights.tensorShapesByName)
        func tensor(_ name: String) throws -> Tensor {
            let t = try weights.tensor(names.stored(name))
            let wanted = names.shape(name)
            return t.shape == wanted ? t : t.reshaped(wanted)
        }
        func conv(_ name: String) throws -> Conv2D {
            try Conv2D(weight: try tensor("\(name).weight"), bias: try tensor("\(name).bias"), precision: precision)
        }
        func norm(_ name: String) throws -> GroupNorm {
            GroupNorm(weight: try tensor("\(name).weight"), bias: try tensor("\(name).bias"),
                      groups: configuration.normNumGroups)
        }
        func resnet(_ name: String) throws -> VAEResnetBlock {
            VAEResnetBlock(norm1: try norm("\(name).norm1"), conv1: try conv("\(name).conv1"),
                           norm2: try norm("\(name).norm2"), conv2: try conv("\(name).conv2"),
                           shortcut: names.contains("\(name).conv_shortcut.weight") ? try conv("\(name).conv_shortcut") : nil)
        }
        postQuantConv = try conv("post_quant_conv")
        convIn = try conv("decoder.conv_in")
        midResnets = [try resnet("decoder.mid_block.resnets.0"), try resnet("decoder.mid_block.resnets.1")]
        let a = "decoder.mid_block.attentions.0"
        midAttention = configuration.midBlockAddAttention
            ? VAEAttention(norm: try norm("\(a).group_norm"), query: try conv("\(a).to_q"), key: try conv("\(a).to_k"),
                           value: try conv("\(a).to_v"), output: try conv("\(a).to_out.0"))
            : nil
        let levels = configuration.blockOutChannels.count
        upBlocks = try (0..<levels).map { i in
            (try (0...configuration.layersPerBlock).map { try resnet("decoder.up_blocks.\(i).resnets.\($0)") },
             i < levels - 1 ? try conv("decoder.up_blocks.\(i).upsamplers.0.conv") : nil)
        }
        normOut = try norm("decoder.conv_norm_out")
        convOut = try conv("decoder.conv_out")
    }

    /// Decodes latents `z` (B, latentChannels, h, w) as a diffusion model produces them (scaled by
    /// the scaling factor) into images (B, outChannels, f·h, f·w) in about [−1, 1], before
    /// clamping; f is ``VAEConfiguration/downsamplingFactor``. The decoder parallelises over
    /// image rows itself, with OpenBLAS on one thread meanwhile.
    public func decode(_ z: Tensor) throws -> Tensor {
        let (batch, h, w) = try checkLatents(z)
        let f = configuration.downsamplingFactor
        let image = Tensor(zeros: [batch, configuration.outChannels, h * f, w * f])
        Parallel.withBLASThreads(1) {
            for b in 0..<batch {
                decodeOne(z.data + b * configuration.latentChannels * h * w, height: h, width: w,
                          into: image.data + b * configuration.outChannels * h * w * f * f)
            }
        }
        ScratchPool.shared.drain()
        return image
    }

    /// Throws unless `z` is (B, latentChannels, h, w) with positive sizes; returns (B, h, w).
    func checkLatents(_ z: Tensor) throws -> (Int, Int, Int) {
        guard z.shape.count == 4, z.shape[1] == configuration.latentChannels, z.shape.allSatisfy({ $0 > 0 }) else {
            throw FiTError.invalidInput("latents have shape \(z.shape); this VAE decodes (batch, \(configuration.latentChannels), height, width)")
        }
        return (z.shape[0], z.shape[2], z.shape[3])
    }

    /// Decodes one latent (latentChannels, h, w) into `output` (outChannels, f·h, f·w).
    func decodeOne(_ latent: UnsafePointer<Float>, height h: Int, width w: Int, into output: UnsafeMutablePointer<Float>) {
        let features = decodeHead(latent, height: h, width: w)
        decodeTail(features, height: h, width: w, into: output)
    }

    /// The part at latent resolution: `post_quant_conv`, `conv_in` and the mid block (whose
    /// attention sees every pixel). Returns (midChannels, h, w) features.
    func decodeHead(_ latent: UnsafePointer<Float>, height h: Int, width w: Int) -> TensorStorage {
        let c = configuration.latentChannels
        let unscaled = TensorStorage(zeros: c * h * w)
        unscaled.pointer.update(from: latent, count: c * h * w)
        Kernels.scale(unscaled.pointer, count: c * h * w, by: Float(1 / configuration.scalingFactor))
        let quant = TensorStorage(zeros: c * h * w)
        postQuantConv.apply(unscaled.pointer, height: h, width: w, into: quant.pointer)
        var x = TensorStorage(uninitialized: convIn.outChannels * h * w)
        convIn.apply(quant.pointer, height: h, width: w, into: x.pointer)
        x = midResnets[0].apply(x, height: h, width: w)
        midAttention?.apply(x.pointer, pixels: h * w)
        return midResnets[1].apply(x, height: h, width: w)
    }

    /// The up blocks and the output layers on head features (consumed) of h×w; `shared` is a
    /// tiled decode's GroupNorm statistics.
    func decodeTail(_ features: TensorStorage, height: Int, width: Int, into output: UnsafeMutablePointer<Float>,
                    shared: TileStatistics? = nil) {
        var x = features, h = height, w = width
        for block in upBlocks {
            for resnet in block.resnets { x = resnet.apply(x, height: h, width: w, shared: shared) }
            if let upsampler = block.upsampler {
                let up = TensorStorage(uninitialized: upsampler.outChannels * 4 * h * w)
                upsampler.apply(x.pointer, height: h, width: w, upsampling: true, into: up.pointer)
                x = up; h *= 2; w *= 2
            }
        }
        convOut.apply(x.pointer, height: h, width: w,
                      normalizing: normOut.affine(for: x.pointer, height: h, width: w, silu: true, shared: shared), into: output)
    }

    /// Channels of the head's features.
    var headChannels: Int { convIn.outChannels }
}
