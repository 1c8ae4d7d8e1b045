import FiTKit
import Foundation

/// The explorer's colours, read from btop-style `.theme` files:
/// `theme[key]="#RRGGBB"` (also `#BW` greys and `"R G B"`), `#` comments.
struct Theme: Equatable, Sendable {
    var name: String
    var colors: [Key: RGB]

    /// The colour roles a theme sets.
    enum Key: String, CaseIterable, Sendable {
        case mainBackground = "main_bg", mainForeground = "main_fg", title, highlight = "hi_fg"
        case selectedBackground = "selected_bg", selectedForeground = "selected_fg", inactive = "inactive_fg"
        case divider = "div_line", statusBackground = "status_bg", statusForeground = "status_fg"
        case progressStart = "progress_start", progressEnd = "progress_end", error = "error_fg"
        case canvasBackground = "canvas_bg"
    }

    subscript(_ key: Key) -> RGB { colors[key] ?? Theme.default.colors[key]! }

    /// Built in, used when no theme file is given or a file is malformed.
    static let `default` = Theme(name: "default", colors: [
        .mainBackground: RGB(0x1C, 0x1E, 0x26), .mainForeground: RGB(0xD8, 0xDE, 0xE9), .title: RGB(0xFF, 0xFF, 0xFF),
        .highlight: RGB(0xF0, 0xA0, 0x30), .selectedBackground: RGB(0x3B, 0x42, 0x52), .selectedForeground: RGB(0xFF, 0xFF, 0xFF),
        .inactive: RGB(0x7A, 0x80, 0x8C), .divider: RGB(0x4C, 0x56, 0x6A), .statusBackground: RGB(0x2E, 0x34, 0x40),
        .statusForeground: RGB(0xE5, 0xE9, 0xF0), .progressStart: RGB(0x5E, 0x81, 0xAC), .progressEnd: RGB(0xA3, 0xBE, 0x8C),
        .error: RGB(0xFF, 0x55, 0x55), .canvasBackground: RGB(0x10, 0x10, 0x14),
    ])

    /// Problems found while reading a theme file.
    struct ParseError: Error, CustomStringConvertible, Equatable {
        let path: String
        let line: Int
        let text: String
        var reason = "is malformed (expected theme[key]=\"#RRGGBB\")"
        var description: String { "\(path):\(line): theme line '\(text)' \(reason); using the default theme" }
    }

    /// Parses theme source. Unknown keys are ignored; a malformed line is an error naming its line.
    static func parse(_ source: String, name: String, path: String) throws -> Theme {
        var colors = Theme.default.colors
        for (number, raw) in source.components(separatedBy: .newlines).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard line.hasPrefix("theme["), let close = line.firstIndex(of: "]"),
                  let equals = line[close...].firstIndex(of: "=") else {
                throw ParseError(path: path, line: number + 1, text: line)
            }
            let key = String(line[line.index(line.startIndex, offsetBy: 6)..<close])
            var value = line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\"") && value.hasSuffix("\"") && value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            guard let role = Key(rawValue: key) else { continue }
            if value.isEmpty { continue } // btop: empty means "terminal default"; keep ours
            guard let color = RGB(themeValue: value) else { throw ParseError(path: path, line: number + 1, text: line) }
            colors[role] = color
        }
        return Theme(name: name, colors: colors)
    }

    /// Loads `nameOrPath`: a path to a `.theme` file, or a name looked up in the theme folders.
    static func load(_ nameOrPath: String, folders: [String]) throws -> Theme {
        let candidates = [nameOrPath] + folders.flatMap { ["\($0)/\(nameOrPath).theme", "\($0)/\(nameOrPath)"] }
        var isFolder: ObjCBool = false
        guard let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0, isDirectory: &isFolder) && !isFolder.boolValue }) else {
            throw ThemeNotFound(name: nameOrPath, available: available(in: folders).joined(separator: ", "))
        }
        let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return try parse(try decode(try RegularFile.read(path, limit: 1 << 20), path: path), name: stem, path: path)
    }

    /// `data` as UTF-8 text, or a ``ParseError`` naming the first line that is not UTF-8.
    static func decode(_ data: Data, path: String) throws -> String {
        if let text = String(data: data, encoding: .utf8) { return text }
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        let bad = lines.firstIndex { String(data: Data($0), encoding: .utf8) == nil } ?? 0
        throw ParseError(path: path, line: bad + 1, text: String(decoding: lines[bad], as: UTF8.self), reason: "is not UTF-8 text")
    }

    struct ThemeNotFound: Error, CustomStringConvertible {
        let name: String
        let available: String
        var description: String { "no theme '\(name)'; available: \(available)" }
    }

    /// Theme names: the built-in `default` first, then the file stems in `folders`, sorted, each once.
    static func available(in folders: [String]) -> [String] {
        let files = folders.flatMap { folder in
            ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
                .filter { $0.hasSuffix(".theme") }.map { String($0.dropLast(6)) }
        }
        return ["default"] + Set(files).subtracting(["default"]).sorted()
    }

    /// Where themes are looked up, in order: `$FIT_THEMES`; the first `themes/` beside the binary or
    /// up to four folders above it (`$PREFIX/lib/fit/themes` installed, the checkout's `themes/`
    /// from `.build/release`); `./themes`; `~/.config/fit/themes`.
    static func searchFolders() -> [String] {
        var folders: [String] = []
        if let env = ProcessInfo.processInfo.environment["FIT_THEMES"] { folders.append(env) }
        var dir = BundledResource.executableFolder
        for _ in 0..<5 {
            let candidate = dir.appendingPathComponent("themes").path
            if FileManager.default.fileExists(atPath: candidate) { folders.append(candidate); break }
            dir = dir.deletingLastPathComponent()
        }
        folders.append(FileManager.default.currentDirectoryPath + "/themes")
        folders.append(NSHomeDirectory() + "/.config/fit/themes")
        return Array(NSOrderedSet(array: folders)) as? [String] ?? folders
    }
}
