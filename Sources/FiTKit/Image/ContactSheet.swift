/// Pictures laid out in a grid on a white background with a gap between cells.
public enum ContactSheet {
    /// `rows` of equally sized images; shorter rows leave their cells white.
    public static func compose(_ rows: [[RGBImage]], gap: Int = 2) -> RGBImage {
        let cell = rows.first?.first ?? RGBImage(width: 1, height: 1)
        let columns = rows.map(\.count).max() ?? 0
        let width = columns * cell.width + (columns + 1) * gap
        let height = rows.count * cell.height + (rows.count + 1) * gap
        var sheet = RGBImage(width: width, height: height, pixels: [UInt8](repeating: 255, count: width * height * 3))
        for (r, row) in rows.enumerated() {
            for (c, image) in row.enumerated() {
                let x0 = gap + c * (cell.width + gap), y0 = gap + r * (cell.height + gap)
                for y in 0..<min(image.height, cell.height) {
                    let src = y * image.width * 3, dst = ((y0 + y) * width + x0) * 3
                    sheet.pixels.replaceSubrange(dst..<(dst + min(image.width, cell.width) * 3),
                                                 with: image.pixels[src..<(src + min(image.width, cell.width) * 3)])
                }
            }
        }
        return sheet
    }

    /// Up to `limit` indices from `0..<count`, evenly spread, always including the last.
    public static func evenlySpaced(count: Int, limit: Int) -> [Int] {
        guard count > limit, limit > 1 else { return Array(0..<count) }
        return (0..<limit).map { Int((Double($0) * Double(count - 1) / Double(limit - 1)).rounded()) }
    }
}
