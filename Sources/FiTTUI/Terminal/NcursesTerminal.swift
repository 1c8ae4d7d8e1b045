import CNcurses
import CSignalGuard
import Foundation

/// The ncurses backend: starts and restores the terminal, draws `CellGrid`s in the best colour
/// mode the terminal has, and reads keys. All ncurses calls happen on the thread that owns it.
final class NcursesTerminal {
    /// Why the explorer cannot start in this terminal.
    struct StartError: Error, CustomStringConvertible {
        let description: String
    }

    let colorMode: ColorMode
    /// Whether the locale is UTF-8 (half blocks and box drawing need it).
    let utf8: Bool
    private var pairs: [UInt64: Int32] = [:]
    private var nextPair: Int32 = 1

    /// Opens the terminal. `requested` overrides the colour detection.
    init(requested: ColorMode?) throws {
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
            throw StartError(description: "the explorer needs an interactive terminal; for pipes and scripts use `fit render` or `fit generate`")
        }
        guard let term = ProcessInfo.processInfo.environment["TERM"], !term.isEmpty, term != "dumb" else {
            throw StartError(description: "TERM is unset or 'dumb': the explorer needs a terminal with cursor addressing (e.g. TERM=xterm-256color); use `fit render` instead")
        }
        setlocale(LC_ALL, "")
        utf8 = fit_locale_is_utf8() != 0
        fit_guard_save_terminal()
        let env = ProcessInfo.processInfo.environment
        let wantsTruecolor = requested == .truecolor
            || (requested == nil && ["truecolor", "24bit"].contains(env["COLORTERM"] ?? ""))
        var screen: OpaquePointer?
        if wantsTruecolor, let rgbName = Self.directColorEntry(for: term) {
            screen = fit_newterm(rgbName)
        }
        if screen == nil { screen = fit_newterm(term) }
        guard screen != nil else {
            throw StartError(description: "unknown terminal type TERM=\(term) (no terminfo entry); install ncurses-term or set TERM=xterm-256color")
        }
        if has_colors() { start_color() } // sets COLORS
        let colors = has_colors() ? Int(fit_colors()) : 0
        switch requested {
        case .some(let mode) where mode != .truecolor || colors >= 1 << 24:
            colorMode = colors == 0 ? .none : mode
        default:
            colorMode = colors >= 1 << 24 ? .truecolor : colors >= 256 ? .palette256 : colors >= 16 ? .palette16 : .none
        }
        cbreak()
        noecho()
        keypad(fit_stdscr(), true)
        Self.defineHomeAndEnd()
        curs_set(0)
        set_escdelay(25)
        Self.installSignalHandlers()
    }

    /// A terminal whose output goes to a file instead of the screen (`newterm` on a `FILE`), for
    /// tests that replay the bytes and for frame benchmarks. Never touches the process's tty.
    init(term: String, outputPath: String, colorMode: ColorMode, utf8: Bool = true) throws {
        setlocale(LC_ALL, "")
        var file: UnsafeMutablePointer<FILE>?
        guard fit_newterm_file(term, outputPath, &file) != nil else {
            throw StartError(description: "cannot open terminal type \(term) on \(outputPath)")
        }
        outputFile = file
        self.utf8 = utf8
        if has_colors() { start_color() }
        self.colorMode = colorMode
        synchronizedOutput = false
    }

    private var outputFile: UnsafeMutablePointer<FILE>?
    private var synchronizedOutput = true

    /// Pushes buffered output to the file of a file-backed terminal.
    func flushOutput() { if let outputFile { fflush(outputFile) } }

    /// Restores the terminal.
    func shutdown() {
        endwin()
        fit_guard_disarm_terminal()
        if let outputFile { fflush(outputFile) }
    }

    /// The terminal's size in cells.
    /// The screen size in cells. On a real terminal it is asked of the tty on every call and
    /// ncurses is resized when it changed, so a resize is seen even if its SIGWINCH got lost.
    var size: (columns: Int, rows: Int) {
        var ws = winsize()
        if outputFile == nil, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0, ws.ws_row > 0,
           Int32(ws.ws_col) != fit_cols() || Int32(ws.ws_row) != fit_lines() {
            resizeterm(Int32(ws.ws_row), Int32(ws.ws_col))
        }
        return (Int(fit_cols()), Int(fit_lines()))
    }

    /// Terminal pixels per cell, when the terminal reports its size in pixels (TIOCGWINSZ).
    var cellPixels: TerminalQuery.PixelSize? {
        var ws = winsize()
        guard outputFile == nil, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0, ws.ws_row > 0,
              ws.ws_xpixel >= ws.ws_col, ws.ws_ypixel >= ws.ws_row else { return nil }
        return TerminalQuery.PixelSize(width: Int(ws.ws_xpixel) / Int(ws.ws_col), height: Int(ws.ws_ypixel) / Int(ws.ws_row))
    }

    /// Makes the next ``draw(_:then:)`` send every cell again, wiping whatever else is on the
    /// screen (sixel and iTerm2 pictures).
    func repaintEverything() {
        wredrawln(fit_stdscr(), 0, fit_lines())
    }

    /// Writes `bytes` to the terminal as they are (image protocols), outside ncurses.
    func writeRaw(_ bytes: String) {
        if let outputFile { fputs(bytes, outputFile) } else { Self.writeRaw(bytes) }
    }

    /// Draws a whole frame with one `doupdate`, then `overlay` (raw bytes: pictures placed on
    /// top), all wrapped in synchronized output.
    func draw(_ grid: CellGrid, then overlay: String = "") {
        if colorMode == .truecolor { reset_color_pairs(); pairs.removeAll(); nextPair = 1 }
        for y in 0..<grid.height {
            for x in 0..<grid.width {
                let cell = grid[x, y]
                var ch = cell.character
                if colorMode == .none, ch == HalfBlockRenderer.upperHalfBlock { ch = AnsiWriter.asciiShade(cell) }
                if !utf8 { ch = Self.ascii(ch) }
                let scalar = ch.unicodeScalars.first.map { Int32($0.value) } ?? 32
                _ = fit_put_cell(Int32(y), Int32(x), scalar, cell.bold ? fit_a_bold() : fit_a_normal(), pair(for: cell))
            }
        }
        wnoutrefresh(fit_stdscr())
        if synchronizedOutput { Self.writeRaw("\u{1B}[?2026h") }
        doupdate()
        if !overlay.isEmpty {
            if let outputFile { fflush(outputFile) }
            writeRaw(overlay)
        }
        if synchronizedOutput { Self.writeRaw("\u{1B}[?2026l") }
    }

    /// The next key within `milliseconds` (negative: wait), or `nil`.
    func readKey(timeout milliseconds: Int32) -> Key? {
        wtimeout(fit_stdscr(), milliseconds)
        var code: wint_t = 0
        let result = wget_wch(fit_stdscr(), &code)
        if result == ERR { return nil }
        if result == KEY_CODE_YES {
            switch Int32(code) {
            case KEY_UP: return .up
            case KEY_DOWN: return .down
            case KEY_LEFT: return .left
            case KEY_RIGHT: return .right
            case KEY_HOME: return .home
            case KEY_END: return .end
            case KEY_PPAGE: return .pageUp
            case KEY_NPAGE: return .pageDown
            case KEY_ENTER: return .enter
            case KEY_BACKSPACE: return .backspace
            case KEY_BTAB: return .backTab
            case KEY_RESIZE: return .resize
            case KEY_F0 + 1: return .f1
            default: return nil
            }
        }
        switch code {
        case 27: return .escape
        case 10, 13: return .enter
        case 127, 8: return .backspace
        case 9: return .tab
        default:
            guard let scalar = Unicode.Scalar(UInt32(code)) else { return nil }
            return .character(Character(scalar))
        }
    }

    /// The colour pair for a cell in the current mode.
    private func pair(for cell: Cell) -> Int32 {
        switch colorMode {
        case .none: return 0
        case .palette16:
            return alloc_pair(Int32(ColorMode.index16(cell.foreground)), Int32(ColorMode.index16(cell.background)))
        case .palette256:
            return alloc_pair(Int32(ColorMode.index256(cell.foreground)), Int32(ColorMode.index256(cell.background)))
        case .truecolor:
            func packed(_ c: RGB) -> Int32 {
                let v = Int32(c.r) << 16 | Int32(c.g) << 8 | Int32(c.b)
                return v < 8 ? 8 : v // 0…7 are palette indices in direct-colour terminfo
            }
            let (f, b) = (packed(cell.foreground), packed(cell.background))
            let key = UInt64(UInt32(f)) << 32 | UInt64(UInt32(b))
            if let p = pairs[key] { return p }
            guard nextPair < fit_color_pairs() else { return 0 }
            let p = nextPair
            nextPair += 1
            init_extended_pair(p, f, b)
            pairs[key] = p
            return p
        }
    }

    /// A private `<TERM>-rgb` terminfo entry with semicolon direct colour, compiled with `tic`
    /// into the user's cache (docs/terminal.md §2.2). Returns its name, or `nil`.
    static func directColorEntry(for term: String) -> String? {
        let cache = (ProcessInfo.processInfo.environment["XDG_CACHE_HOME"] ?? NSHomeDirectory() + "/.cache") + "/fit/terminfo"
        let name = "\(term)-rgb"
        let source = """
        \(name)|\(term) with semicolon direct colour (generated by fit),
            RGB, colors#0x1000000, pairs#0x10000, initc@, ccc@, op=\\E[39;49m,
            setab=\\E[%?%p1%{8}%<%t4%p1%d%e48;2;%p1%{65536}%/%d;%p1%{256}%/%{255}%&%d;%p1%{255}%&%d%;m,
            setaf=\\E[%?%p1%{8}%<%t3%p1%d%e38;2;%p1%{65536}%/%d;%p1%{256}%/%{255}%&%d;%p1%{255}%&%d%;m,
            setb@, setf@, use=\(term),

        """
        let file = cache + "/\(name).src"
        do {
            try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
            try source.write(toFile: file, atomically: true, encoding: .utf8)
            let tic = Process()
            tic.executableURL = URL(fileURLWithPath: "/usr/bin/tic")
            tic.arguments = ["-x", "-o", cache, file]
            tic.standardOutput = FileHandle.nullDevice
            tic.standardError = FileHandle.nullDevice
            try tic.run()
            tic.waitUntilExit()
            guard tic.terminationStatus == 0 else { return nil }
        } catch {
            return nil
        }
        setenv("TERMINFO", cache, 1)
        return name
    }

    private static func ascii(_ ch: Character) -> Character {
        if ch.isASCII { return ch }
        switch ch {
        case "│": return "|"
        case "━", "─": return "-"
        case "▲": return "^"
        case "◆": return "*"
        case "▶": return ">"
        case "·": return "."
        case "▏": return "_"
        case "←", "→", "↑", "↓": return " "
        default: return "?"
        }
    }

    private static func writeRaw(_ s: String) {
        var bytes = Array(s.utf8)
        _ = write(STDOUT_FILENO, &bytes, bytes.count)
    }

    /// Home and End in every common encoding, whatever the terminfo entry says: tmux and screen
    /// send `ESC [1~` / `ESC [4~` even under TERM=xterm-256color, whose entry knows `ESC OH` / `ESC OF`.
    private static func defineHomeAndEnd() {
        for sequence in ["\u{1B}[1~", "\u{1B}[7~", "\u{1B}[H", "\u{1B}OH"] { define_key(sequence, KEY_HOME) }
        for sequence in ["\u{1B}[4~", "\u{1B}[8~", "\u{1B}[F", "\u{1B}OF"] { define_key(sequence, KEY_END) }
    }

    /// What a signal that ends the explorer writes to restore the screen (see `CSignalGuard`):
    /// leave the alternate screen, reset attributes, show the cursor, normal cursor and keypad
    /// keys, end synchronized output, and a fresh line.
    static let resetSequence = "\u{1B}[?2026l\u{1B}[0m\u{1B}[?1049l\u{1B}[?25h\u{1B}[?1l\u{1B}>\r\n"

    /// Ctrl-C, SIGTERM, SIGHUP and crashes (SIGSEGV, SIGILL, SIGABRT, …) restore the terminal
    /// before the process ends (`CSignalGuard`, installed at start-up). The signals the explorer
    /// relies on (and SIGWINCH for resizing) are unblocked in case the parent blocked them.
    private static func installSignalHandlers() {
        var wanted = sigset_t()
        sigemptyset(&wanted)
        for sig in [SIGWINCH, SIGINT, SIGTERM, SIGHUP] { sigaddset(&wanted, sig) }
        pthread_sigmask(SIG_UNBLOCK, &wanted, nil)
        fit_guard_install()
        fit_guard_arm_terminal(resetSequence)
    }
}
