import FiTKit
import Foundation

/// Terminal image protocols that show real pixels instead of half blocks.
enum GraphicsProtocol: String, CaseIterable, Sendable {
    /// The kitty graphics protocol (kitty, WezTerm, Ghostty, Konsole): RGB pixels, base64, chunked.
    case kitty
    /// iTerm2's inline images (iTerm2, WezTerm): a PNG, base64.
    case iterm
    /// Sixel (xterm -ti vt340, foot, mlterm, Windows Terminal): the 240-colour palette, ``SixelEncoder``.
    case sixel
    /// Half blocks (every terminal).
    case none

    /// What the environment says the terminal speaks, without asking it. Inside tmux or screen,
    /// half blocks (their passthrough must be asked for explicitly).
    static func guess(environment env: [String: String]) -> GraphicsProtocol {
        if env["TMUX"] != nil || (env["TERM"] ?? "").hasPrefix("screen") { return .none }
        if env["KITTY_WINDOW_ID"] != nil || env["TERM"] == "xterm-kitty" || env["TERM_PROGRAM"] == "ghostty" { return .kitty }
        if env["TERM_PROGRAM"] == "WezTerm" { return .kitty }
        if env["TERM_PROGRAM"] == "iTerm.app" { return .iterm }
        return .none
    }

    /// The escape sequences that draw `image` at the cursor, `columns` cells wide (the terminal
    /// scales it, keeping the aspect ratio), then a newline: a picture printed to stdout. Sixel
    /// enlarges by whole factors itself, within `sixelLimit` (the terminal's XTSMGRAPHICS
    /// geometry) when known. `nil` for ``none``.
    func encode(_ image: RGBImage, columns: Int, sixelLimit: TerminalQuery.PixelSize? = nil) throws -> String? {
        switch self {
        case .none:
            return nil
        case .kitty:
            return Self.kittyTransmit(image, keys: "c=\(columns)") + "\n"
        case .iterm:
            return try Self.itermImage(image, size: "width=\(columns)") + "\n"
        case .sixel:
            // Sixel draws terminal pixels: enlarge by whole factors to about 8 pixels per column.
            var factor = min(16, columns * 8 / max(image.width, 1))
            if let sixelLimit {
                factor = min(factor, sixelLimit.width / max(image.width, 1), sixelLimit.height / max(image.height, 1))
            }
            factor = max(1, factor)
            return SixelEncoder.encode(image.upscaled(by: factor)) + "\n"
        }
    }

    /// The escape sequences that show `placement`'s picture filling its area (``CanvasImage/fitted(cellPixels:)``),
    /// the cursor moved to the picture's top-left cell and saved and restored around them
    /// (DECSC/DECRC), so ncurses' idea of it stays right. kitty uses image id `id` (replacing an
    /// earlier one of that id) and gets the box in cells; iTerm2 likewise; sixel, which draws
    /// terminal pixels, is resampled to the box's pixel size (whole enlargement factors when they
    /// fill it exactly). `nil` for ``none``.
    func place(_ placement: CanvasImage, id: Int, cellPixels: TerminalQuery.PixelSize?) throws -> String? {
        let box = placement.fitted(cellPixels: cellPixels)
        let body: String
        switch self {
        case .none:
            return nil
        case .kitty:
            // C=1: the cursor stays; the placement replaces image `id`.
            body = Self.kittyTransmit(placement.image, keys: "i=\(id),c=\(box.columns),r=\(box.rows),C=1")
        case .iterm:
            body = try Self.itermImage(placement.image, size: "width=\(box.columns);height=\(box.rows)")
        case .sixel:
            let image = placement.image
            let factor = box.width / max(image.width, 1)
            let scaled = factor >= 1 && image.width * factor == box.width && image.height * factor == box.height
                ? image.upscaled(by: factor) : HalfBlockRenderer.resample(image, width: box.width, height: box.height)
            body = SixelEncoder.encode(scaled)
        }
        return "\u{1B}7\u{1B}[\(box.row + 1);\(box.column + 1)H" + body + "\u{1B}8"
    }

    /// `sequence` wrapped in tmux's passthrough (`ESC P tmux; … ESC \`, every ESC inside doubled),
    /// so that tmux hands it to the terminal it runs in.
    static func tmuxPassthrough(_ sequence: String) -> String {
        "\u{1B}Ptmux;" + sequence.replacingOccurrences(of: "\u{1B}", with: "\u{1B}\u{1B}") + "\u{1B}\\"
    }

    /// What removes every image this program placed (kitty: delete all placements and their
    /// data); `nil` where only redrawing the cells removes them (sixel, iTerm2).
    var clearAll: String? { self == .kitty ? "\u{1B}_Ga=d,d=A,q=2\u{1B}\\" : nil }

    /// A kitty transmit-and-display of `image` as RGB (f=24) in base64 chunks of 4096, `keys` added
    /// to the first chunk; q=2: the terminal sends no replies.
    private static func kittyTransmit(_ image: RGBImage, keys: String) -> String {
        let payload = Data(image.pixels).base64EncodedString()
        var out = "", start = payload.startIndex
        var first = true
        repeat {
            let end = payload.index(start, offsetBy: 4096, limitedBy: payload.endIndex) ?? payload.endIndex
            let more = end < payload.endIndex ? 1 : 0
            let header = first ? "a=T,f=24,s=\(image.width),v=\(image.height),\(keys),q=2,m=\(more)" : "m=\(more)"
            out += "\u{1B}_G\(header);\(payload[start..<end])\u{1B}\\"
            first = false
            start = end
        } while start < payload.endIndex
        return out
    }

    /// An iTerm2 inline image: the PNG (libpng) in base64, `size` its cell size keys.
    private static func itermImage(_ image: RGBImage, size: String) throws -> String {
        let png = try PNGFile.encode(image)
        return "\u{1B}]1337;File=inline=1;size=\(png.count);\(size);preserveAspectRatio=1:\(png.base64EncodedString())\u{07}"
    }
}
