/// Latent-space models: pictures come from the VAE decoder. Previews are the linear latent→RGB
/// projection at the latent's resolution (an SD-VAE decode takes seconds), or, when asked for
/// and the VAE is cheap enough (the embedded model's), VAE decodes as well.
public struct LatentDecoder: ImageDecoder {
    /// Previews may be full decodes when a decode costs at most this many multiply-accumulates
    /// per latent pixel (the embedded model's VAE: about 4 M; the SD-VAE: about 300 M).
    public static let exactPreviewLimit = 16_000_000
    /// The VAE decoder.
    public let vae: VAEDecoder
    /// The per-step preview.
    public let previewProjection: LatentPreview
    /// Decode in tiles of at most this many latent pixels a side (nil: whole).
    public let tile: Int?
    /// Whether previews are VAE decodes (see ``exactPreviewLimit``).
    public let previewsDecode: Bool

    /// Decodes with `vae` (in tiles of `tile` latent pixels when given) and previews with
    /// `preview`, or with the VAE itself when `decodingPreviews` and it is cheap enough.
    public init(vae: VAEDecoder, preview: LatentPreview = .sd1, tile: Int? = nil, decodingPreviews: Bool = false) {
        self.vae = vae
        self.previewProjection = preview
        self.tile = tile
        previewsDecode = decodingPreviews && Self.canDecodeEveryStep(vae.configuration)
    }

    /// Whether a VAE of this shape is cheap enough to decode every sampling step.
    public static func canDecodeEveryStep(_ configuration: VAEConfiguration) -> Bool {
        configuration.decodeMACs(height: 1, width: 1) <= exactPreviewLimit
    }

    public func decode(_ x: Tensor, index: Int) throws -> RGBImage {
        let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
        let one = Tensor(zeros: [1, c, h, w])
        one.data.update(from: x.data + index * c * h * w, count: c * h * w)
        let image = try vae.decode(one, tile: tile)
        guard image.isFinite else { throw FiTError.nonFiniteValues(output: "the VAE's decoded image (its weights may hold NaN/Inf)", step: nil, steps: nil) }
        return RGBImage(tensor: image)
    }

    public func preview(_ x: Tensor, index: Int) -> RGBImage {
        if previewsDecode, let image = try? decode(x, index: index) { return image }
        return previewProjection.image(x, index: index)
    }
    public var previewIsApproximate: Bool { !previewsDecode }
    public var previewScale: Int { previewsDecode ? 1 : vae.configuration.downsamplingFactor }
    public var pixelsPerCell: Int { vae.configuration.downsamplingFactor }
}
