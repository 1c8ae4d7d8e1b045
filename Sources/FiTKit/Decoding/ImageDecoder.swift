/// Turns what a model's grid holds (B, C, H, W) into pictures: the full-quality picture for
/// final images and exports, and a fast preview for drawing every sampling step.
public protocol ImageDecoder: Sendable {
    /// The full-quality picture of sample `index` of `x` (for a latent model: the VAE decode).
    func decode(_ x: Tensor, index: Int) throws -> RGBImage
    /// A fast picture of sample `index` of `x`, for per-step display.
    func preview(_ x: Tensor, index: Int) -> RGBImage
    /// Whether ``preview(_:index:)`` is only an approximation of ``decode(_:index:)``.
    var previewIsApproximate: Bool { get }
    /// How many times smaller (per side) a preview is than the decoded picture.
    var previewScale: Int { get }
    /// Pixels per side of the picture that one grid cell becomes (the VAE's factor; 1 for pixels).
    var pixelsPerCell: Int { get }
}
