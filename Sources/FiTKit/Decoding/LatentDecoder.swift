/// Latent-space models: pictures come from the SD-VAE decoder; previews from the linear
/// latent→RGB projection at the latent's resolution.
public struct LatentDecoder: ImageDecoder {
    /// The VAE decoder.
    public let vae: VAEDecoder
    /// The per-step preview.
    public let previewProjection: LatentPreview
    /// Decode in tiles of at most this many latent pixels a side (nil: whole).
    public let tile: Int?

    /// Decodes with `vae` (in tiles of `tile` latent pixels when given) and previews with `preview`.
    public init(vae: VAEDecoder, preview: LatentPreview = .sd1, tile: Int? = nil) {
        self.vae = vae
        self.previewProjection = preview
        self.tile = tile
    }

    public func decode(_ x: Tensor, index: Int) throws -> RGBImage {
        let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
        let one = Tensor(zeros: [1, c, h, w])
        one.data.update(from: x.data + index * c * h * w, count: c * h * w)
        let image = try vae.decode(one, tile: tile)
        return RGBImage(tensor: image)
    }

    public func preview(_ x: Tensor, index: Int) -> RGBImage { previewProjection.image(x, index: index) }
    public var previewIsApproximate: Bool { true }
    public var previewScale: Int { vae.configuration.downsamplingFactor }
}
