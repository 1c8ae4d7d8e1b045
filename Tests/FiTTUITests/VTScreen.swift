/// A small VT100/xterm screen model: enough of the escape sequences ncurses emits for
/// xterm-256color (cursor addressing and movement, erase, repeat, SGR colours) to rebuild the
/// screen from a byte stream and compare it cell by cell.
struct VTScreen {
    struct Cell: Equatable { var character: Character = " "; var foreground: Int? = nil; var background: Int? = nil }

    let width: Int
    let height: Int
    private(set) var cells: [Cell]
    private var row = 0, column = 0
    private var foreground: Int?, background: Int?
    private var last: Character = " "

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        cells = Array(repeating: Cell(), count: width * height)
    }

    subscript(x: Int, y: Int) -> Cell { cells[y * width + x] }

    mutating func feed(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        var chars = Array(text)[...]
        while let ch = chars.popFirst() {
            switch ch {
            case "\u{1B}":
                guard let next = chars.popFirst() else { return }
                if next == "[" {
                    var parameters = ""
                    while let c = chars.first, !(c.isLetter || c == "@" || c == "`") { parameters.append(c); chars.removeFirst() }
                    guard let command = chars.popFirst() else { return }
                    csi(command, parameters)
                } else if next == "(" || next == ")" {
                    chars.popFirst() // character set selection
                } // other two-byte escapes (ESC =, ESC >, ESC 7/8) are ignored
            case "\r": column = 0
            case "\n": row = min(row + 1, height - 1)
            case "\u{08}": column = max(column - 1, 0)
            default:
                if ch.asciiValue.map({ $0 < 32 }) ?? false { continue }
                put(ch)
            }
        }
    }

    private mutating func put(_ ch: Character) {
        if column >= width { column = 0; row = min(row + 1, height - 1) }
        cells[row * width + column] = Cell(character: ch, foreground: foreground, background: background)
        last = ch
        column += 1
    }

    private mutating func csi(_ command: Character, _ raw: String) {
        let isPrivate = raw.hasPrefix("?") || raw.hasPrefix(">")
        let numbers = raw.trimmingCharacters(in: CharacterSet(charactersIn: "?>")).split(separator: ";", omittingEmptySubsequences: false).map { Int($0) }
        func n(_ i: Int, _ fallback: Int = 1) -> Int { i < numbers.count ? (numbers[i] ?? fallback) : fallback }
        if isPrivate { return }
        switch command {
        case "H", "f": row = min(max(n(0) - 1, 0), height - 1); column = min(max(n(1) - 1, 0), width - 1)
        case "A": row = max(row - n(0), 0)
        case "B": row = min(row + n(0), height - 1)
        case "C": column = min(column + n(0), width - 1)
        case "D": column = max(column - n(0), 0)
        case "G", "`": column = min(max(n(0) - 1, 0), width - 1)
        case "d": row = min(max(n(0) - 1, 0), height - 1)
        case "b": for _ in 0..<n(0) { put(last) }
        case "X": for x in column..<min(column + n(0), width) { cells[row * width + x] = Cell(background: background) }
        case "K":
            let range = n(0, 0) == 0 ? column..<width : n(0, 0) == 1 ? 0..<(column + 1) : 0..<width
            for x in range { cells[row * width + x] = Cell(background: background) }
        case "J":
            if n(0, 0) == 2 { cells = Array(repeating: Cell(background: background), count: width * height) }
            else { for i in (row * width + column)..<cells.count { cells[i] = Cell(background: background) } }
        case "m": sgr(numbers.map { $0 ?? 0 })
        default: break
        }
    }

    private mutating func sgr(_ codes: [Int]) {
        var i = 0
        let codes = codes.isEmpty ? [0] : codes
        while i < codes.count {
            switch codes[i] {
            case 0: foreground = nil; background = nil
            case 30...37: foreground = codes[i] - 30
            case 40...47: background = codes[i] - 40
            case 90...97: foreground = codes[i] - 90 + 8
            case 100...107: background = codes[i] - 100 + 8
            case 39: foreground = nil
            case 49: background = nil
            case 38 where i + 2 < codes.count && codes[i + 1] == 5: foreground = codes[i + 2]; i += 2
            case 48 where i + 2 < codes.count && codes[i + 1] == 5: background = codes[i + 2]; i += 2
            case 38 where i + 4 < codes.count && codes[i + 1] == 2: foreground = 1 << 24 | codes[i + 2] << 16 | codes[i + 3] << 8 | codes[i + 4]; i += 4
            case 48 where i + 4 < codes.count && codes[i + 1] == 2: background = 1 << 24 | codes[i + 2] << 16 | codes[i + 3] << 8 | codes[i + 4]; i += 4
            default: break
            }
            i += 1
        }
    }
}

import Foundation
