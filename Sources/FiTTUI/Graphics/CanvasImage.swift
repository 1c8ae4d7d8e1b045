import FiTKit

/// A picture the explorer shows through an image protocol: where (the top-left cell), how big
/// (cells), and the pixels. The same box the half-block art fills.
struct CanvasImage: Equatable {
    var x: Int
    var y: Int
    var columns: Int
    var rows: Int
    var image: RGBImage
}
