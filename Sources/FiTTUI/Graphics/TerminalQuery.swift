import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Asks the terminal which image protocols it speaks, before curses takes the screen: the kitty
/// graphics query, XTSMGRAPHICS (the largest sixel image) and DA1 (whose attribute 4 means
/// sixel), answered within a short timeout.
/// A terminal that does not answer, answers slowly or answers garbage gets half blocks.
enum TerminalQuery {
    /// A size in terminal pixels.
    struct PixelSize: Equatable, Sendable {
        var width: Int
        var height: Int
    }

    /// The query: a 1×1 kitty image with `a=q` (query only, nothing stored or drawn), an
    /// XTSMGRAPHICS read of the current sixel geometry (`CSI ? 2 ; 1 ; 0 S`: item 2 = sixel
    /// geometry, action 1 = read), then DA1, which every terminal answers, so the reply's end is known.
    static let query = "\u{1B}_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\u{1B}\\\u{1B}[?2;1;0S\u{1B}[c"

    /// What the replies say.
    struct Answer: Equatable {
        var kitty = false
        var sixel = false
        /// The largest sixel image the terminal draws, in pixels (XTSMGRAPHICS), if it said.
        var sixelGeometry: PixelSize?

        /// The protocol to use: kitty when it answered OK, else sixel when DA1 lists it, else half blocks.
        var best: GraphicsProtocol { kitty ? .kitty : sixel ? .sixel : .none }
    }

    /// Parses whatever the terminal sent back (pure).
    static func parse(_ reply: [UInt8]) -> Answer {
        let text = String(decoding: reply, as: UTF8.self)
        var answer = Answer()
        answer.kitty = text.contains("\u{1B}_Gi=31;OK")
        if let start = text.range(of: "\u{1B}[?"), let end = text[start.upperBound...].firstIndex(of: "c") {
            let attributes = text[start.upperBound..<end].split(separator: ";")
            answer.sixel = attributes.contains("4")
        }
        // XTSMGRAPHICS reply: CSI ? 2 ; status ; width ; height S (status 0: success).
        if let start = text.range(of: "\u{1B}[?2;0;"), let end = text[start.upperBound...].firstIndex(of: "S") {
            let numbers = text[start.upperBound..<end].split(separator: ";").compactMap { Int($0) }
            if numbers.count == 2, (1...65_535).contains(numbers[0]), (1...65_535).contains(numbers[1]) {
                answer.sixelGeometry = PixelSize(width: numbers[0], height: numbers[1])
            }
        }
        return answer
    }

    /// Reads from `fd` until the DA1 reply ends (`ESC [ ? … c`) or `timeout` seconds pass; never
    /// blocks longer, whatever arrives (or does not).
    static func readReply(from fd: Int32, timeout: Double) -> [UInt8] {
        var reply: [UInt8] = []
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 256)
        while reply.count < 4096 {
            let remaining = deadline.timeIntervalSinceNow
            guard remaining > 0 else { break }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, Int32(max(1, remaining * 1000))) > 0 else { break }
            let n = read(fd, &buffer, buffer.count)
            guard n > 0 else { break }
            reply += buffer[0..<n]
            if daOneEnded(reply) { break }
        }
        return reply
    }

    /// Whether `bytes` hold a complete DA1 reply.
    static func daOneEnded(_ bytes: [UInt8]) -> Bool {
        guard let start = String(decoding: bytes, as: UTF8.self).range(of: "\u{1B}[?") else { return false }
        return String(decoding: bytes, as: UTF8.self)[start.upperBound...].contains("c")
    }

    /// Asks the terminal on stdin/stdout (raw mode for the duration, restored after). `nil` when
    /// stdin or stdout is not a terminal.
    static func ask(timeout: Double = 0.2) -> Answer? {
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else { return nil }
        var saved = termios()
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else { return nil }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        defer { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
        _ = query.withCString { write(STDOUT_FILENO, $0, strlen($0)) }
        return parse(readReply(from: STDIN_FILENO, timeout: timeout))
    }
}
