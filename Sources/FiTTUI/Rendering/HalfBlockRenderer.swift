import FiTKit

/// Turns a picture into cells: two pixels per cell with the upper half block `▀` (foreground =
/// top pixel, background = bottom pixel), or one pixel per cell (a coloured space) where the
/// terminal cannot show the block. The picture is scaled to fit, aspect ratio kept: integer
/// nearest-neighbour enlargement keeps model pixels crisp, shrinking averages boxes.
struct HalfBlockRenderer: Sendable {
    static let upperHalfBlock: Character = "\u{2580}"
    /// Two pixels per cell (UTF-8 terminals) or one (plain ASCII fallback).
    var halfBlocks = true

    /// Pixel rows one cell holds.
    var pixelsPerCell: Int { halfBlocks ? 2 : 1 }

    /// The size in cells that `image` takes when fitted into `columns × rows` cells.
    func fittedSize(of image: RGBImage, columns: Int, rows: Int) -> (columns: Int, pixelRows: Int) {
        let maxW = max(columns, 1), maxH = max(rows * pixelsPerCell, 1)
        if image.width <= maxW && image.height <= maxH {
            let factor = max(1, min(maxW / image.width, maxH / image.height))
            return (image.width * factor, image.height * factor)
        }
        let scale = min(Double(maxW) / Double(image.width), Double(maxH) / Double(image.height))
        return (max(1, Int(Double(image.width) * scale)), max(1, Int(Double(image.height) * scale)))
    }

    /// The image scaled to `width × height` pixels (nearest for enlargement, box average for shrinking).
    static func resample(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        var out = RGBImage(width: width, height: height)
        for y in 0..<height {
            let y0 = y * image.height / height, y1 = max(y0 + 1, (y + 1) * image.height / height)
            for x in 0..<width {
                let x0 = x * image.width / width, x1 = max(x0 + 1, (x + 1) * image.width / width)
                var sum = (0, 0, 0), n = 0
                for sy in y0..<y1 { for sx in x0..<x1 { let p = image[sx, sy]; sum.0 += Int(p.r); sum.1 += Int(p.g); sum.2 += Int(p.b); n += 1 } }
                let i = (y * width + x) * 3
                out.pixels[i] = UInt8(sum.0 / n); out.pixels[i + 1] = UInt8(sum.1 / n); out.pixels[i + 2] = UInt8(sum.2 / n)
            }
        }
        return out
    }

    /// The image as cells, centred in a `columns × rows` box filled with `background`.
    func render(_ image: RGBImage, columns: Int, rows: Int, background: RGB) -> CellGrid {
        var grid = CellGrid(width: columns, height: rows, fill: Cell(character: " ", foreground: background, background: background))
        guard image.width > 0, image.height > 0, columns > 0, rows > 0 else { return grid }
        let (w, h) = fittedSize(of: image, columns: columns, rows: rows)
        let scaled = Self.resample(image, width: w, height: h)
        let cellRows = (h + pixelsPerCell - 1) / pixelsPerCell
        let left = (columns - w) / 2, top = (rows - cellRows) / 2
        for row in 0..<cellRows {
            for x in 0..<w {
                let topPixel = scaled[x, row * pixelsPerCell]
                let upper = RGB(topPixel.r, topPixel.g, topPixel.b)
                var lower = background
                if halfBlocks, row * 2 + 1 < h { let p = scaled[x, row * 2 + 1]; lower = RGB(p.r, p.g, p.b) }
                if !halfBlocks {
                    grid[left + x, top + row] = Cell(character: " ", foreground: upper, background: upper)
                } else if upper == lower {
                    grid[left + x, top + row] = Cell(character: " ", foreground: upper, background: upper)
                } else {
                    grid[left + x, top + row] = Cell(character: Self.upperHalfBlock, foreground: upper, background: lower)
                }
            }
        }
        return grid
    }
}
