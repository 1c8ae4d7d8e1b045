import Foundation

/// A source of standard normal noise for sampling.
public protocol NoiseSource {
    /// The next `count` samples of N(0, 1), in the order the generator produces them.
    mutating func normal(count: Int) -> [Float]
}

/// Reproduces PyTorch's CPU `torch.randn` for float32 after `torch.manual_seed(seed)`, so a seed
/// here starts from the same noise as the same seed in the reference.
///
/// PyTorch draws with mt19937. Requests of 16 or more values fill uniform floats (24 random bits
/// each) and turn them into normals 16 at a time (Box–Muller on pairs j and j+8; a ragged tail
/// recomputes the last 16); smaller requests use a double-precision Box–Muller that caches its
/// second value across calls.
public struct TorchNoiseSource: NoiseSource, Sendable {
    private var engine: MersenneTwister
    private var cachedNormal: Double?

    /// The generator state right after `torch.manual_seed(seed)`.
    public init(seed: UInt64) {
        engine = MersenneTwister(seed: seed)
    }

    private mutating func uniformFloat() -> Float {
        Float(engine.next() & 0xFF_FFFF) * 0x1p-24
    }

    private mutating func uniformDouble() -> Double {
        let high = UInt64(engine.next()), low = UInt64(engine.next())
        return Double(((high << 32) | low) & ((1 << 53) - 1)) * 0x1p-53
    }

    private mutating func normalDouble() -> Double {
        if let cached = cachedNormal { cachedNormal = nil; return cached }
        let u1 = uniformDouble(), u2 = uniformDouble()
        let r = (-2 * log1p(-u2)).squareRoot()
        let theta = 2 * Double.pi * u1
        cachedNormal = r * sin(theta)
        return r * cos(theta)
    }

    private static func boxMuller16(_ data: UnsafeMutablePointer<Float>) {
        for j in 0..<8 {
            let u1 = 1 - data[j], u2 = data[j + 8]
            let radius = (-2 * Foundation.log(u1)).squareRoot()
            let theta = Float(2 * Double.pi * Double(u2))
            data[j] = radius * Foundation.cos(theta)
            data[j + 8] = radius * Foundation.sin(theta)
        }
    }

    public mutating func normal(count: Int) -> [Float] {
        guard count >= 16 else { return (0..<count).map { _ in Float(normalDouble()) } }
        var data = (0..<count).map { _ in uniformFloat() }
        data.withUnsafeMutableBufferPointer { buffer in
            let p = buffer.baseAddress!
            var i = 0
            while i + 16 <= count { Self.boxMuller16(p + i); i += 16 }
            if count % 16 != 0 {
                for k in 0..<16 { p[count - 16 + k] = uniformFloat() }
                Self.boxMuller16(p + count - 16)
            }
        }
        return data
    }
}
