import FiTKit

/// Sixel images (xterm -ti vt340, foot, mlterm, Windows Terminal, WezTerm): each pixel mapped to
/// the nearest colour of the 240-colour xterm palette (the 6×6×6 cube and the grey ramp, matched
/// as ``ColorMode/index256(_:)`` does), bands of six rows, run-length encoded.
///
/// Written here rather than through libsixel: 60 lines with a palette that holds up for these
/// pictures (flat emoji colours, no dithering needed), and no extra library to install;
/// libsixel's own decoder (`sixel2png`) checks the output in the tests.
enum SixelEncoder {
    /// The DCS sequence that draws `image` at the cursor, one terminal pixel per image pixel.
    static func encode(_ image: RGBImage) -> String {
        let (w, h) = (image.width, image.height)
        var index = [Int](repeating: 0, count: w * h)
        var used = Set<Int>()
        for i in 0..<(w * h) {
            let p = i * 3
            let n = ColorMode.index256(RGB(image.pixels[p], image.pixels[p + 1], image.pixels[p + 2]))
            index[i] = n
            used.insert(n)
        }
        // P2 = 1: pixels no colour sets keep the background; raster attributes give the size.
        var out = "\u{1B}P0;1;0q\"1;1;\(w);\(h)"
        for n in used.sorted() {
            let c = ColorMode.color256(n)
            out += "#\(n);2;\(percent(c.r));\(percent(c.g));\(percent(c.b))"
        }
        for band in stride(from: 0, to: h, by: 6) {
            let rows = min(6, h - band)
            var colours = Set<Int>()
            for y in band..<(band + rows) { for x in 0..<w { colours.insert(index[y * w + x]) } }
            for (k, n) in colours.sorted().enumerated() {
                var line: [UInt8] = []
                for x in 0..<w {
                    var bits: UInt8 = 0
                    for dy in 0..<rows where index[(band + dy) * w + x] == n { bits |= 1 << UInt8(dy) }
                    line.append(63 + bits)
                }
                while line.last == 63 { line.removeLast() } // trailing empty columns
                out += (k > 0 ? "$" : "") + "#\(n)" + runLength(line)
            }
            out += "-"
        }
        return out + "\u{1B}\\"
    }

    /// Sixel colour components are percentages.
    private static func percent(_ v: UInt8) -> Int { (Int(v) * 100 + 127) / 255 }

    /// `!count` runs for four or more equal sixels.
    private static func runLength(_ sixels: [UInt8]) -> String {
        var out = "", i = 0
        while i < sixels.count {
            var j = i
            while j < sixels.count && sixels[j] == sixels[i] { j += 1 }
            let run = j - i, ch = String(UnicodeScalar(sixels[i]))
            out += run >= 4 ? "!\(run)\(ch)" : String(repeating: ch, count: run)
            i = j
        }
        return out
    }
}
