/// Pictures laid out in a grid on a white background with a gap between cells, optionally with a
/// caption under each column (``BitmapFont``).
public enum ContactSheet {
    /// `rows` of equally sized images; shorter rows leave their cells white. `captions`, one per
    /// column, are written in a band below the grid (e.g. `12 t=0.38`).
    public static func compose(_ rows: [[RGBImage]], captions: [String] = [], gap: Int = 2) -> RGBImage {
        let cell = rows.first?.first ?? RGBImage(width: 1, height: 1)
        let columns = rows.map(\.count).max() ?? 0
        let width = columns * cell.width + (columns + 1) * gap
        // The largest whole scale at which every caption fits its column.
        let longest = captions.map(\.count).max() ?? 0
        let scale = longest == 0 ? 0 : max(1, min(cell.width / max(BitmapFont.width(of: String(repeating: "0", count: longest), scale: 1), 1), 4))
        let band = captions.isEmpty ? 0 : BitmapFont.height * scale + gap
        let height = rows.count * cell.height + (rows.count + 1) * gap + band
        var sheet = RGBImage(width: width, height: height, pixels: [UInt8](repeating: 255, count: width * height * 3))
        for (c, caption) in captions.prefix(columns).enumerated() {
            let x0 = gap + c * (cell.width + gap)
            BitmapFont.draw(caption, into: &sheet, x: x0 + max((cell.width - BitmapFont.width(of: caption, scale: scale)) / 2, 0),
                            y: height - band, scale: scale)
        }
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

    /// The caption of a trajectory column: the 1-based step (or `end` for the finished image)
    /// and the model time, `12 t=.38` for a flow, `12 t=480` for DDPM.
    public static func caption(step: Int?, t: Double, flow: Bool) -> String {
        let time: String
        if flow {
            let text = String(format: "%.2f", min(max(t, 0), 1))
            time = text.hasPrefix("0") ? String(text.dropFirst()) : (text == "1.00" ? "1" : text)
        } else {
            time = String(Int(t.rounded()))
        }
        return "\(step.map(String.init) ?? "end") t=\(time)"
    }

    /// Up to `limit` indices from `0..<count`, evenly spread, always including the last.
    public static func evenlySpaced(count: Int, limit: Int) -> [Int] {
        guard count > limit, limit > 1 else { return Array(0..<count) }
        return (0..<limit).map { Int((Double($0) * Double(count - 1) / Double(limit - 1)).rounded()) }
    }
}
