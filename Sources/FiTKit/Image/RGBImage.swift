/// An 8-bit RGB picture, rows top to bottom, three bytes per pixel.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `height · width · 3` bytes, row-major, R G B.
    public var pixels: [UInt8]

    /// A black image.
    public init(width: Int, height: Int) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 0, count: width * height * 3)
    }

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3, "pixel count does not match \(width)×\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The pixel at column `x`, row `y`.
    public subscript(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8) {
        let i = (y * width + x) * 3
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// The image of sample `index` of a (B, 3, H, W) tensor in [−1, 1], mapped as the official
    /// code does: `clamp(127.5·x + 128, 0, 255)`, truncated (NaN becomes 0, never a trap).
    public init(tensor: Tensor, index: Int = 0) {
        precondition(tensor.shape.count == 4 && tensor.shape[1] >= 3, "expected (B, 3, H, W), got \(tensor.shape)")
        let (c, h, w) = (tensor.shape[1], tensor.shape[2], tensor.shape[3])
        self.init(width: w, height: h)
        let base = tensor.data + index * c * h * w
        for y in 0..<h {
            for x in 0..<w {
                for ch in 0..<3 {
                    let v = 127.5 * base[(ch * h + y) * w + x] + 128
                    pixels[(y * w + x) * 3 + ch] = v.isNaN ? 0 : UInt8(min(max(v, 0), 255))
                }
            }
        }
    }

    /// The image enlarged `factor` times in both directions, nearest neighbour (previews shown
    /// beside decoded images).
    public func upscaled(by factor: Int) -> RGBImage {
        guard factor > 1 else { return self }
        var out = RGBImage(width: width * factor, height: height * factor)
        for y in 0..<out.height {
            for x in 0..<out.width {
                let src = ((y / factor) * width + x / factor) * 3, dst = (y * out.width + x) * 3
                out.pixels[dst] = pixels[src]; out.pixels[dst + 1] = pixels[src + 1]; out.pixels[dst + 2] = pixels[src + 2]
            }
        }
        return out
    }
}
