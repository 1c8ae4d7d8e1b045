/// A 3×5-pixel font for the few characters a contact sheet's captions need (step numbers and
/// times: digits, `t = . / -`, `end`), drawn in black at a whole-number scale.
public enum BitmapFont {
    /// Rows top to bottom, three bits each (4 = left pixel).
    static let glyphs: [Character: [UInt8]] = [
        "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7], "4": [5, 5, 7, 1, 1],
        "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 1, 1], "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7],
        "t": [2, 7, 2, 2, 3], "=": [0, 7, 0, 7, 0], ".": [0, 0, 0, 0, 2], "/": [1, 1, 2, 4, 4], "-": [0, 0, 7, 0, 0],
        "e": [0, 7, 7, 4, 7], "n": [0, 6, 5, 5, 5], "d": [1, 1, 7, 5, 7], " ": [0, 0, 0, 0, 0],
    ]
    /// Pixels per character cell at scale 1, including a one-pixel gap.
    public static let advance = 4
    /// Glyph height at scale 1.
    public static let height = 5

    /// Width in pixels of `text` at `scale`.
    public static func width(of text: String, scale: Int) -> Int { max(text.count * advance - 1, 0) * scale }

    /// Draws `text` into `image` with its top-left corner at (x, y); pixels outside are skipped,
    /// characters without a glyph are left blank.
    public static func draw(_ text: String, into image: inout RGBImage, x: Int, y: Int, scale: Int) {
        for (i, ch) in text.enumerated() {
            guard let rows = glyphs[ch] else { continue }
            for (r, bits) in rows.enumerated() {
                for c in 0..<3 where bits & (4 >> UInt8(c)) != 0 {
                    for dy in 0..<scale {
                        for dx in 0..<scale {
                            let px = x + (i * advance + c) * scale + dx, py = y + r * scale + dy
                            guard px >= 0, py >= 0, px < image.width, py < image.height else { continue }
                            let at = (py * image.width + px) * 3
                            image.pixels[at] = 0; image.pixels[at + 1] = 0; image.pixels[at + 2] = 0
                        }
                    }
                }
            }
        }
    }
}
