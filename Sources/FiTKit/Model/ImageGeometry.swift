/// How image sizes in pixels map onto a model's grid: latent models (4 channels) work on their
/// VAE's latent (8× smaller for the SD-VAE, 4× for the embedded model's), pixel models on the
/// pixels; both in patches of `patch_size`.
public struct ImageGeometry: Sendable, Equatable {
    public let configuration: FiTConfiguration
    /// Pixels per grid cell: the VAE's downsampling factor for latent models, 1 for pixel models.
    public let pixelsPerCell: Int

    /// The geometry of a model whose VAE (for latent models) downsamples by `vaeFactor`.
    public init(_ configuration: FiTConfiguration, vaeFactor: Int = 8) {
        self.configuration = configuration
        pixelsPerCell = configuration.inChannels == 4 ? vaeFactor : 1
    }

    /// Whether the model works in a VAE's latent space (4 channels) rather than on pixels.
    public var isLatent: Bool { configuration.inChannels == 4 }
    /// Image sides must be multiples of this many pixels.
    public var sizeStep: Int { configuration.patchSize * pixelsPerCell }
    /// The largest side the RoPE cache allows, in pixels.
    public var maximumSide: Int { RoPE2D.maximumSide * sizeStep }
    /// The square side of the training context, in pixels (256 for the official models).
    public var nativeSide: Int { Int(Double(configuration.contextSize).squareRoot()) * sizeStep }

    /// Parses "WxH" (also "W×H", or one number for a square).
    public static func parse(_ text: String) throws -> (width: Int, height: Int) {
        let parts = text.lowercased().replacingOccurrences(of: "×", with: "x").split(separator: "x")
        let numbers = parts.compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard numbers.count == parts.count, (1...2).contains(numbers.count), numbers.allSatisfy({ $0 > 0 }) else {
            throw FiTError.invalidInput("size '\(text)' is not WxH in pixels (e.g. 256x256)")
        }
        return (numbers[0], numbers.count == 2 ? numbers[1] : numbers[0])
    }

    /// `width × height` snapped to the nearest size this model can make.
    public func snapped(width: Int, height: Int) -> (width: Int, height: Int) {
        Self.snapped(width: width, height: height, step: sizeStep, maximumSide: maximumSide)
    }

    /// `width × height` rounded to the nearest multiples of `step`, each side within `step…maximumSide`.
    public static func snapped(width: Int, height: Int, step: Int, maximumSide: Int) -> (width: Int, height: Int) {
        (snap(Double(width), step: step, maximumSide: maximumSide), snap(Double(height), step: step, maximumSide: maximumSide))
    }

    /// A side of `side` pixels rounded to the nearest multiple of `step` within `step…maximumSide`.
    public static func snap(_ side: Double, step: Int, maximumSide: Int) -> Int {
        min(max(Int((side / Double(step)).rounded()) * step, step), maximumSide)
    }

    /// The grid (height, width in model cells) for an image of `width × height` pixels, or an
    /// error naming the nearest sizes the model can make.
    public func grid(width: Int, height: Int) throws -> (height: Int, width: Int) {
        let step = sizeStep
        guard width % step == 0, height % step == 0, width <= maximumSide, height <= maximumSide else {
            func candidates(_ v: Int) -> [Int] {
                Array(Set([v / step * step, (v + step - 1) / step * step].map { min(max($0, step), maximumSide) })).sorted()
            }
            let near = candidates(width).flatMap { w in candidates(height).map { "\(w)x\($0)" } }
            let why = width > maximumSide || height > maximumSide
                ? "is beyond the RoPE cache (at most \(maximumSide) px per side)"
                : "is not a multiple of \(step) px (patch \(configuration.patchSize)\(isLatent ? " × VAE \(pixelsPerCell)" : ""))"
            throw FiTError.invalidInput("size \(width)x\(height) \(why); nearest valid sizes: \(near.joined(separator: ", "))")
        }
        return (height / pixelsPerCell, width / pixelsPerCell)
    }
}

import Foundation
