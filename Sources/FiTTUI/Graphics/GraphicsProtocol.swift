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
    /// scales it, keeping the aspect ratio). Sixel enlarges by whole factors itself, within
    /// `sixelLimit` (the terminal's XTSMGRAPHICS geometry) when known. `nil` for ``none``.
    func encode(_ image: RGBImage, columns: Int, sixelLimit: TerminalQuery.PixelSize? = nil) throws -> String? {
        switch self {
        case .none:
            return nil
        case .kitty:
            // a=T: transmit and display; f=24: RGB; c: columns to fill; q=2: no replies.
            let payload = Data(image.pixels).base64EncodedString()
            var out = "", start = payload.startIndex
            let chunk = 4096
            var first = true
            while start < payload.endIndex {
                let end = payload.index(start, offsetBy: chunk, limitedBy: payload.endIndex) ?? payload.endIndex
                let more = end < payload.endIndex ? 1 : 0
                let keys = first ? "a=T,f=24,s=\(image.width),v=\(image.height),c=\(columns),q=2,m=\(more)" : "m=\(more)"
                out += "\u{1B}_G\(keys);\(payload[start..<end])\u{1B}\\"
                first = false
                start = end
            }
            return out + "\n"
        case .iterm:
            let png = try PNGFile.encode(image)
            return "\u{1B}]1337;File=inline=1;size=\(png.count);width=\(columns);preserveAspectRatio=1:\(png.base64EncodedString())\u{07}\n"
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
}
