import ArgumentParser
import FiTKit
import Foundation

/// `fit view`: any PNG as half-block art on stdout, with what made it when it carries a fit record.
struct ViewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "view",
        abstract: "Show PNG files as half-block colour art on stdout; for fit's PNGs, say what made them and how to remake them."
    )

    @Argument(help: "PNG files.")
    var files: [String]

    @Option(help: "Colours: truecolor, 256, 16 or none (default: truecolor if COLORTERM says so, else 256).")
    var color: ColorMode?

    @Option(help: "Pixels: kitty (kitty graphics protocol), iterm (inline images), sixel, none (half blocks), or auto: what the environment names (KITTY_WINDOW_ID, TERM_PROGRAM; half blocks inside tmux/screen and when stdout is not a terminal).")
    var graphics: GraphicsChoice = .auto

    @Option(parsing: .unconditional, help: "Width in columns, at most 4096 (default: the image's width, at most the terminal's).")
    var columns: Int?

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one PNG file") }
        if let columns, !(1...RenderCommand.maximumColumns).contains(columns) {
            throw ValidationError("--columns must be in 1…\(RenderCommand.maximumColumns)")
        }
    }

    func run() throws {
        try Console.reportingErrors {
            let terminal = StdoutTerminal()
            let mode = color ?? terminal.colorMode
            for (i, path) in files.enumerated() {
                let (image, text) = try PNGFile.read(path)
                let cols = columns ?? terminal.columns.map { min(image.width, $0) } ?? image.width
                var out = files.count > 1 ? "\(i > 0 ? "\n" : "")\(path) (\(image.width)×\(image.height))\n" : ""
                out += try terminal.picture(image, columns: cols, mode: mode, graphics: graphics)
                if let record = try? GenerationRecord.from(pngText: text, path: path) {
                    out += Self.describe(record, path: path)
                }
                FileHandle.standardOutput.write(Data(out.utf8))
            }
        }
    }

    /// One line on what made the image and one with the command that makes it again.
    static func describe(_ r: GenerationRecord, path: String) -> String {
        let rope = r.rope.map { ", RoPE \($0.name)" } ?? ""
        let cfg = r.cfg <= 1 ? "no guidance" : String(format: "guidance %g", r.cfg)
        return "\(r.model) · \(r.className ?? "class \(r.classID)") (\(r.classID)) · \(r.width)×\(r.height) · "
            + "\(r.sampler.rawValue) \(r.steps) steps · \(cfg) · seed \(r.seed)\(rope)\n"
            + "remake: fit generate --from \(path)\n"
    }
}
