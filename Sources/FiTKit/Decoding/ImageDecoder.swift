/// Turns what a model's grid holds (B, C, H, W) into pictures: the full-quality picture for
/// final images and exports, and a fast preview for drawing every sampling step.
public protocol ImageDecoder: Sendable {
    /// The full-quality picture of sample `index` of `x` (for a latent model: the VAE decode).
    func decode(_ x: Tensor, index: Int) throws -> RGBImage
    /// A fast picture of sample `index` of `x`, for per-step display.
    func preview(_ x: Tensor, index: Int) -> RGBImage
    /// Whether ``preview(_:index:)`` is only an approximation of ``decode(_:index:)``.
    var previewIsApproximate: Bool { get }
}

/// Pixel-space models: the grid is the picture (values in [−1, 1]).
public struct PixelDecoder: ImageDecoder {
    public init() {}
    public func decode(_ x: Tensor, index: Int) throws -> RGBImage { RGBImage(tensor: x, index: index) }
    public func preview(_ x: Tensor, index: Int) -> RGBImage { RGBImage(tensor: x, index: index) }
    public var previewIsApproximate: Bool { false }
}

/// Latent-space models: pictures come from the SD-VAE decoder; previews from the linear
/// latent→RGB projection at the latent's resolution.
public struct LatentDecoder: ImageDecoder {
    /// The VAE decoder.
    public let vae: VAEDecoder
    /// The per-step preview.
    public let previewProjection: LatentPreview
    /// Decode in tiles of at most this many latent pixels a side (nil: whole).
    public let tile: Int?

    public init(vae: VAEDecoder, preview: LatentPreview = .sd1, tile: Int? = nil) {
        self.vae = vae
        self.previewProjection = preview
        self.tile = tile
    }

    public func decode(_ x: Tensor, index: Int) throws -> RGBImage {
        let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
        let one = Tensor(zeros: [1, c, h, w])
        one.data.update(from: x.data + index * c * h * w, count: c * h * w)
        let image = try tile.map { try vae.decodeTiled(one, tile: $0, overlap: 8) } ?? vae.decode(one)
        return RGBImage(tensor: image)
    }

    public func preview(_ x: Tensor, index: Int) -> RGBImage { previewProjection.image(x, index: index) }
    public var previewIsApproximate: Bool { true }
}
