import FiTKit

/// A `CellGrid` as text with ANSI SGR colour sequences, for terminals without curses
/// (`fit render`, pipes, SSH one-liners).
enum AnsiWriter {
    /// `image` as half-block art `columns` wide (the aspect ratio kept), ready for stdout.
    static func picture(_ image: RGBImage, columns: Int, mode: ColorMode) -> String {
        let renderer = HalfBlockRenderer(halfBlocks: mode != .none)
        let fitted = renderer.fittedSize(of: image, columns: columns, rows: Int.max / 4)
        let rows = (fitted.pixelRows + renderer.pixelsPerCell - 1) / renderer.pixelsPerCell
        return render(renderer.render(image, columns: fitted.columns, rows: rows, background: .black), mode: mode)
    }

    /// The grid, one line per row, colours in `mode`, reset at the end of each row.
    static func render(_ grid: CellGrid, mode: ColorMode) -> String {
        var out = ""
        for y in 0..<grid.height {
            var last: (RGB, RGB)?
            for x in 0..<grid.width {
                let cell = grid[x, y]
                if mode != .none, last.map({ $0.0 != cell.foreground || $0.1 != cell.background }) ?? true {
                    out += sgr(foreground: cell.foreground, background: cell.background, mode: mode)
                    last = (cell.foreground, cell.background)
                }
                let isPixel = cell.character == HalfBlockRenderer.upperHalfBlock || cell.character == " "
                out.append(mode == .none && isPixel ? asciiShade(cell) : cell.character)
            }
            out += mode == .none ? "\n" : "\u{1B}[0m\n"
        }
        return out
    }

    static func sgr(foreground f: RGB, background b: RGB, mode: ColorMode) -> String {
        switch mode {
        case .truecolor: return "\u{1B}[38;2;\(f.r);\(f.g);\(f.b);48;2;\(b.r);\(b.g);\(b.b)m"
        case .palette256: return "\u{1B}[38;5;\(ColorMode.index256(f));48;5;\(ColorMode.index256(b))m"
        case .palette16:
            func code(_ i: Int, base: Int) -> Int { i < 8 ? base + i : base + 60 + i - 8 }
            return "\u{1B}[\(code(ColorMode.index16(f), base: 30));\(code(ColorMode.index16(b), base: 40))m"
        case .none: return ""
        }
    }

    /// A character of matching brightness for colourless output.
    static func asciiShade(_ cell: Cell) -> Character {
        let f = cell.foreground, b = cell.background
        let level = (Int(f.r) + Int(f.g) + Int(f.b) + Int(b.r) + Int(b.g) + Int(b.b)) / 6
        let ramp = Array(" .:-=+*#%@")
        return ramp[min(level * ramp.count / 256, ramp.count - 1)]
    }
}
