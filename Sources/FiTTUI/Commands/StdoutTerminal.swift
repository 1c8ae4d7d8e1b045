import Foundation

/// What the commands that print pictures (`render`, `view`) know about standard output: its
/// width when it is a terminal, and the colours to use.
struct StdoutTerminal {
    /// Columns of the terminal, `nil` when stdout is not one.
    let columns: Int?
    /// Truecolor when `COLORTERM` says so, else 256 colours.
    let colorMode: ColorMode

    init() {
        var ws = winsize()
        columns = isatty(STDOUT_FILENO) != 0 && ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0 && ws.ws_col > 0 ? Int(ws.ws_col) : nil
        let env = ProcessInfo.processInfo.environment
        colorMode = ["truecolor", "24bit"].contains(env["COLORTERM"] ?? "") ? .truecolor : .palette256
    }
}
