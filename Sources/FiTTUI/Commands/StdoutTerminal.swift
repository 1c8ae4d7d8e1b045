import ArgumentParser
import FiTKit
import Foundation

/// What the commands that print pictures (`render`, `view`) know about standard output: its
/// width when it is a terminal, and the colours to use.
struct StdoutTerminal {
    /// Columns of the terminal, `nil` when stdout is not one.
    let columns: Int?
    /// Truecolor when `COLORTERM` says so, else 256 colours.
    let colorMode: ColorMode
    /// The image protocol the environment names (half blocks when stdout is not a terminal).
    let graphics: GraphicsProtocol

    init() {
        var ws = winsize()
        columns = isatty(STDOUT_FILENO) != 0 && ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0 && ws.ws_col > 0 ? Int(ws.ws_col) : nil
        let env = ProcessInfo.processInfo.environment
        colorMode = ["truecolor", "24bit"].contains(env["COLORTERM"] ?? "") ? .truecolor : .palette256
        graphics = columns == nil ? .none : GraphicsProtocol.guess(environment: env)
    }

    /// Inside tmux, where image sequences go through its passthrough.
    static var insideTmux: Bool { ProcessInfo.processInfo.environment["TMUX"] != nil }

    /// Inside tmux or screen, whose passthrough must be asked for explicitly.
    static var insideMultiplexer: Bool {
        let env = ProcessInfo.processInfo.environment
        return env["TMUX"] != nil || (env["TERM"] ?? "").hasPrefix("screen")
    }

    /// The picture of `image` for stdout: through `graphics` (resolved), else half blocks in `mode`.
    func picture(_ image: RGBImage, columns: Int, mode: ColorMode, graphics choice: GraphicsChoice) throws -> String {
        let (chosen, answer) = choice.resolved(guess: graphics, askable: columns > 0 && self.columns != nil)
        guard let picture = try chosen.encode(image, columns: columns, sixelLimit: answer?.sixelGeometry) else {
            return AnsiWriter.picture(image, columns: columns, mode: mode)
        }
        // Asked for by name inside tmux: through tmux's passthrough (needs `set -g allow-passthrough on`).
        if Self.insideTmux, choice.protocol != nil {
            return GraphicsProtocol.tmuxPassthrough(String(picture.dropLast())) + "\n"
        }
        return picture
    }
}

/// `--graphics`: a protocol, or `auto` (what the environment names).
enum GraphicsChoice: String, CaseIterable, ExpressibleByArgument {
    case auto, kitty, iterm, sixel, none

    /// The protocol asked for, `nil` for `auto`.
    var `protocol`: GraphicsProtocol? { self == .auto ? nil : GraphicsProtocol(rawValue: rawValue) }

    /// The protocol to use: the one asked for, else what the environment names (`guess`), else —
    /// for `auto` on a terminal (`askable`) outside tmux and screen — what the terminal answers
    /// to ``TerminalQuery`` (asked here, so before curses starts), with its answer.
    /// GNU screen (outside tmux) always gets half blocks: no image sequence survives it.
    func resolved(guess: GraphicsProtocol, askable: Bool,
                  environment: [String: String] = ProcessInfo.processInfo.environment) -> (GraphicsProtocol, TerminalQuery.Answer?) {
        if environment["TMUX"] == nil, environment["STY"] != nil || (environment["TERM"] ?? "").hasPrefix("screen") { return (.none, nil) }
        let chosen = self.protocol ?? guess
        // Past the screen check, the multiplexer left is tmux: `auto` does not ask through it.
        guard self == .auto, chosen == .none, askable, environment["TMUX"] == nil else { return (chosen, nil) }
        let answer = TerminalQuery.ask()
        return (answer?.best ?? .none, answer)
    }
}
