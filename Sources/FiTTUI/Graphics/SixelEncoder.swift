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
    ///
    /// One pass per band of six rows: each column's sixels go straight into run-length-encoded
    /// lines of their colours (gaps as empty sixels), so the work is proportional to the pixels,
    /// not to pixels × colours (a 256×256 picture of noise in a few milliseconds).
    static func encode(_ image: RGBImage) -> String {
        let (w, h) = (image.width, image.height)
        var index = [UInt8](repeating: 0, count: w * h)
        var used = [Bool](repeating: false, count: 256)
        for i in 0..<(w * h) {
            let p = i * 3
            let n = ColorMode.index256(RGB(image.pixels[p], image.pixels[p + 1], image.pixels[p + 2]))
            index[i] = UInt8(n)
            used[n] = true
        }
        // P2 = 1: pixels no colour sets keep the background; raster attributes give the size.
        var out = Array("\u{1B}P0;1;0q\"1;1;\(w);\(h)".utf8)
        for n in 0..<256 where used[n] {
            let c = ColorMode.color256(n)
            out += Array("#\(n);2;\(percent(c.r));\(percent(c.g));\(percent(c.b))".utf8)
        }
        var lines = [Line](repeating: Line(), count: 256)
        var last = [Int](repeating: -1, count: 256)   // the last column a colour has a sixel in (−1: none in this band)
        var present: [Int] = []
        for band in stride(from: 0, to: h, by: 6) {
            let rows = min(6, h - band)
            present.removeAll(keepingCapacity: true)
            for x in 0..<w {
                // The (at most six) colours of this column and their bits.
                var colours: [(Int, UInt8)] = []
                colours.reserveCapacity(6)
                for dy in 0..<rows {
                    let n = Int(index[(band + dy) * w + x])
                    if let k = colours.firstIndex(where: { $0.0 == n }) { colours[k].1 |= 1 << UInt8(dy) } else { colours.append((n, 1 << UInt8(dy))) }
                }
                for (n, bits) in colours {
                    if last[n] < 0 { present.append(n); lines[n].reset() }
                    lines[n].append(63, count: x - last[n] - 1)   // empty sixels since its last column
                    lines[n].append(63 + bits, count: 1)
                    last[n] = x
                }
            }
            for (k, n) in present.sorted().enumerated() {
                if k > 0 { out.append(UInt8(ascii: "$")) }
                out += Array("#\(n)".utf8)
                lines[n].flush()
                out += lines[n].bytes
                last[n] = -1
            }
            out.append(UInt8(ascii: "-"))
        }
        out += Array("\u{1B}\\".utf8)
        return String(decoding: out, as: UTF8.self)
    }

    /// One colour's sixels in a band, run-length encoded as they come (`!count` for runs of four
    /// or more equal sixels).
    private struct Line {
        var bytes: [UInt8] = []
        var sixel: UInt8 = 0
        var run = 0

        mutating func reset() { bytes.removeAll(keepingCapacity: true); run = 0 }

        mutating func append(_ value: UInt8, count: Int) {
            guard count > 0 else { return }
            if run > 0 && value == sixel { run += count; return }
            flush()
            (sixel, run) = (value, count)
        }

        mutating func flush() {
            guard run > 0 else { return }
            if run >= 4 { bytes += Array("!\(run)".utf8); bytes.append(sixel) } else { bytes += [UInt8](repeating: sixel, count: run) }
            run = 0
        }
    }

    /// Sixel colour components are percentages.
    private static func percent(_ v: UInt8) -> Int { (Int(v) * 100 + 127) / 255 }
}
