/// A linear latent→RGB projection: each pixel's colour is a 4×3 matrix times its latent vector
/// plus a bias — the cheap preview ComfyUI (`latent_rgb_factors`) and stable-diffusion.cpp
/// draw while sampling. Works on latents as the diffusion model sees them (scaled) and gives
/// colours in about [−1, 1], at the latent's resolution (8× smaller than the decoded image).
public struct LatentPreview: Sendable, Equatable {
    /// `factors[c]` is the (R, G, B) contribution of latent channel c.
    public var factors: [[Float]]
    /// Added to every pixel's (R, G, B).
    public var bias: [Float]

    /// The published factors for the SD-1.x VAE (sd-vae-ft-ema / ft-mse), as in ComfyUI's SD15 latent format.
    public static let sd1 = LatentPreview(
        factors: [[0.3512, 0.2297, 0.3227],
                  [0.3250, 0.4974, 0.2350],
                  [-0.2829, 0.1762, 0.2721],
                  [-0.2120, -0.2616, -0.7177]],
        bias: [0, 0, 0])

    /// The preview of sample `index` of latents `x` (B, channels, h, w).
    public func image(_ x: Tensor, index: Int) -> RGBImage {
        let (c, h, w) = (x.shape[1], x.shape[2], x.shape[3])
        precondition(c == factors.count, "latent preview expects \(factors.count) channels, got \(c)")
        let base = x.data + index * c * h * w, plane = h * w
        var image = RGBImage(width: w, height: h)
        for p in 0..<plane {
            for rgb in 0..<3 {
                var v = bias[rgb]
                for channel in 0..<c { v += factors[channel][rgb] * base[channel * plane + p] }
                image.pixels[p * 3 + rgb] = UInt8(min(max(127.5 * v + 128, 0), 255))
            }
        }
        return image
    }
}
