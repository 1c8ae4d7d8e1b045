/// Pixel-space models: the grid is the picture (values in [−1, 1]).
public struct PixelDecoder: ImageDecoder {
    /// The identity decoder.
    public init() {}
    public func decode(_ x: Tensor, index: Int) throws -> RGBImage {
        guard x.isFinite else { throw FiTError.nonFiniteValues(output: "the image", step: nil, steps: nil) }
        return RGBImage(tensor: x, index: index)
    }
    public func preview(_ x: Tensor, index: Int) -> RGBImage { RGBImage(tensor: x, index: index) }
    public var previewIsApproximate: Bool { false }
    public var previewScale: Int { 1 }
    public var pixelsPerCell: Int { 1 }
}
