import Foundation

/// The shape of an SD-style VAE decoder, read from the diffusers `config.json` keys
/// (docs/model.md §7). Keys this port does not need are ignored; values it cannot honour are
/// errors naming the key.
public struct VAEConfiguration: Codable, Sendable, Equatable {
    /// Channels of each encoder level; the decoder walks them in reverse.
    public var blockOutChannels: [Int]
    /// ResNet blocks per encoder level (the decoder has one more per up block).
    public var layersPerBlock: Int
    /// Channels of the latent.
    public var latentChannels: Int
    /// GroupNorm groups.
    public var normNumGroups: Int
    /// Latents as a diffusion model produces them are `z · scalingFactor`.
    public var scalingFactor: Double
    /// Image channels.
    public var outChannels: Int
    /// Whether the mid block has its self-attention.
    public var midBlockAddAttention: Bool
    /// Activation; only `silu` exists in the SD VAEs.
    public var actFn: String
    /// Up block kinds; only `UpDecoderBlock2D`.
    public var upBlockTypes: [String]?
    /// Latent normalisations of newer VAEs (SD3, Flux), which the SD-1.x decode path lacks: the
    /// keys must be absent or null, and `use_post_quant_conv` true.
    var shiftFactor: Double?
    var latentsMean: [Double]?
    var usePostQuantConv: Bool?

    /// `stabilityai/sd-vae-ft-ema` (and `-ft-mse`, same shapes): the VAE FiT was trained with.
    public static let sdVAEFtEMA = VAEConfiguration(
        blockOutChannels: [128, 256, 512, 512], layersPerBlock: 2, latentChannels: 4,
        normNumGroups: 32, scalingFactor: 0.18215, outChannels: 3, midBlockAddAttention: true,
        actFn: "silu", upBlockTypes: nil)

    /// The decoder upsamples by this factor in each direction.
    public var downsamplingFactor: Int { 1 << (blockOutChannels.count - 1) }

    enum CodingKeys: String, CodingKey {
        case blockOutChannels = "block_out_channels", layersPerBlock = "layers_per_block"
        case latentChannels = "latent_channels", normNumGroups = "norm_num_groups"
        case scalingFactor = "scaling_factor", outChannels = "out_channels"
        case midBlockAddAttention = "mid_block_add_attention", actFn = "act_fn"
        case upBlockTypes = "up_block_types"
        case shiftFactor = "shift_factor", latentsMean = "latents_mean", usePostQuantConv = "use_post_quant_conv"
    }

    init(blockOutChannels: [Int], layersPerBlock: Int, latentChannels: Int, normNumGroups: Int,
         scalingFactor: Double, outChannels: Int, midBlockAddAttention: Bool, actFn: String,
         upBlockTypes: [String]?) {
        self.blockOutChannels = blockOutChannels
        self.layersPerBlock = layersPerBlock
        self.latentChannels = latentChannels
        self.normNumGroups = normNumGroups
        self.scalingFactor = scalingFactor
        self.outChannels = outChannels
        self.midBlockAddAttention = midBlockAddAttention
        self.actFn = actFn
        self.upBlockTypes = upBlockTypes
    }

    /// Decodes a diffusers config; an absent or null key takes sd-vae-ft-ema's value.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = Self.sdVAEFtEMA
        blockOutChannels = try c.decodeIfPresent([Int].self, forKey: .blockOutChannels) ?? d.blockOutChannels
        layersPerBlock = try c.decodeIfPresent(Int.self, forKey: .layersPerBlock) ?? d.layersPerBlock
        latentChannels = try c.decodeIfPresent(Int.self, forKey: .latentChannels) ?? d.latentChannels
        normNumGroups = try c.decodeIfPresent(Int.self, forKey: .normNumGroups) ?? d.normNumGroups
        scalingFactor = try c.decodeIfPresent(Double.self, forKey: .scalingFactor) ?? d.scalingFactor
        outChannels = try c.decodeIfPresent(Int.self, forKey: .outChannels) ?? d.outChannels
        midBlockAddAttention = try c.decodeIfPresent(Bool.self, forKey: .midBlockAddAttention) ?? d.midBlockAddAttention
        actFn = try c.decodeIfPresent(String.self, forKey: .actFn) ?? d.actFn
        upBlockTypes = try c.decodeIfPresent([String].self, forKey: .upBlockTypes)
        shiftFactor = try c.decodeIfPresent(Double.self, forKey: .shiftFactor)
        latentsMean = try c.decodeIfPresent([Double].self, forKey: .latentsMean)
        usePostQuantConv = try c.decodeIfPresent(Bool.self, forKey: .usePostQuantConv)
    }

    /// Parses a diffusers `config.json` (or the `vae_config` metadata string) and validates it.
    public static func decode(_ data: Data, origin: String) throws -> VAEConfiguration {
        let config: VAEConfiguration
        do {
            config = try JSONDecoder().decode(VAEConfiguration.self, from: data)
        } catch {
            throw FiTError.invalidConfiguration("\(origin): not a VAE config.json (\(error))")
        }
        try config.validate()
        return config
    }

    /// Throws for values the decoder cannot run.
    public func validate() throws {
        func bad(_ key: CodingKeys, _ value: Any, _ reason: String) -> FiTError {
            .unsupportedConfiguration(key: key.rawValue, value: "\(value)", reason: reason)
        }
        guard (1...8).contains(blockOutChannels.count), blockOutChannels.allSatisfy({ (1...8192).contains($0) }) else {
            throw bad(.blockOutChannels, blockOutChannels, "needs 1 to 8 channel counts, each in 1…8192")
        }
        guard (0...16).contains(layersPerBlock) else { throw bad(.layersPerBlock, layersPerBlock, "must be in 0…16") }
        guard (1...1024).contains(latentChannels) else { throw bad(.latentChannels, latentChannels, "must be in 1…1024") }
        guard (1...64).contains(outChannels) else { throw bad(.outChannels, outChannels, "must be in 1…64") }
        guard scalingFactor > 0, scalingFactor.isFinite else { throw bad(.scalingFactor, scalingFactor, "must be positive") }
        guard normNumGroups > 0, blockOutChannels.allSatisfy({ $0 % normNumGroups == 0 }) else {
            throw bad(.normNumGroups, normNumGroups, "must divide every entry of block_out_channels \(blockOutChannels)")
        }
        guard actFn == "silu" || actFn == "swish" else { throw bad(.actFn, actFn, "only silu is supported") }
        if let shiftFactor { throw bad(.shiftFactor, shiftFactor, "this is not an SD-1.x VAE (the decoder has no latent shift)") }
        if let latentsMean { throw bad(.latentsMean, latentsMean, "this is not an SD-1.x VAE (the decoder has no latent normalisation)") }
        if usePostQuantConv == false { throw bad(.usePostQuantConv, false, "the SD-1.x decode path starts with post_quant_conv") }
        if let upBlockTypes {
            guard upBlockTypes.count == blockOutChannels.count else {
                throw bad(.upBlockTypes, upBlockTypes, "needs one entry per block_out_channels entry")
            }
            guard upBlockTypes.allSatisfy({ $0 == "UpDecoderBlock2D" }) else {
                throw bad(.upBlockTypes, upBlockTypes, "only UpDecoderBlock2D is supported")
            }
        }
    }

    /// The configuration as diffusers `config.json` (for `vae_config` metadata).
    public func jsonString() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try! encoder.encode(self), as: UTF8.self)
    }

    /// Every tensor the decode path needs (`post_quant_conv.*` and `decoder.*`), in execution
    /// order, with PyTorch shapes.
    public func tensorShapes() -> [(name: String, shape: [Int])] {
        var shapes: [(String, [Int])] = []
        func conv(_ name: String, _ out: Int, _ inp: Int, _ k: Int) {
            shapes.append(("\(name).weight", [out, inp, k, k])); shapes.append(("\(name).bias", [out]))
        }
        func norm(_ name: String, _ c: Int) {
            shapes.append(("\(name).weight", [c])); shapes.append(("\(name).bias", [c]))
        }
        func resnet(_ name: String, _ inp: Int, _ out: Int) {
            norm("\(name).norm1", inp); conv("\(name).conv1", out, inp, 3)
            norm("\(name).norm2", out); conv("\(name).conv2", out, out, 3)
            if inp != out { conv("\(name).conv_shortcut", out, inp, 1) }
        }
        let top = blockOutChannels.last!
        conv("post_quant_conv", latentChannels, latentChannels, 1)
        conv("decoder.conv_in", top, latentChannels, 3)
        resnet("decoder.mid_block.resnets.0", top, top)
        if midBlockAddAttention {
            let a = "decoder.mid_block.attentions.0"
            norm("\(a).group_norm", top)
            for p in ["to_q", "to_k", "to_v", "to_out.0"] {
                shapes.append(("\(a).\(p).weight", [top, top])); shapes.append(("\(a).\(p).bias", [top]))
            }
        }
        resnet("decoder.mid_block.resnets.1", top, top)
        var channels = top
        for (i, out) in blockOutChannels.reversed().enumerated() {
            for j in 0...layersPerBlock {
                resnet("decoder.up_blocks.\(i).resnets.\(j)", channels, out)
                channels = out
            }
            if i < blockOutChannels.count - 1 { conv("decoder.up_blocks.\(i).upsamplers.0.conv", out, out, 3) }
        }
        norm("decoder.conv_norm_out", channels)
        conv("decoder.conv_out", outChannels, channels, 3)
        return shapes
    }
}
