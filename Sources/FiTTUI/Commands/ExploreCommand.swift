import ArgumentParser
import FiTKit
import Foundation

/// `fit explore` (and `fit` alone): the interactive explorer.
struct ExploreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explore",
        abstract: "Pick a class, size and sampler; watch every denoising step; step through it; export PNGs."
    )

    @OptionGroup var model: ModelOptions

    @Option(help: "Folder for exported PNGs.")
    var outDir = "fit-output"

    @Option(help: "Colours: truecolor, 256, 16 or none (default: detected).")
    var color: ColorMode?

    @Option(help: "Theme name (in themes/) or path to a btop-style .theme file.")
    var theme: String?

    @Option(help: "Starting seed (default: random).")
    var seed: UInt64?

    @Option(help: "Canvas pixels: kitty (kitty graphics protocol), iterm (inline images), sixel, none (half blocks), or auto: what the environment names or the terminal answers (half blocks inside tmux/screen).")
    var graphics: GraphicsChoice = .auto

    @OptionGroup var runtime: RuntimeOptions

    func run() throws {
        runtime.apply()
        try Console.reportingErrors {
            let loaded = try model.load()
            let info = try ModelInfo(loaded: loaded, seed: seed ?? UInt64(UInt32.random(in: 0...UInt32.max)))
            let folders = Theme.searchFolders()
            var themes = [Theme.default]
            for name in Theme.available(in: folders) where name != "default" {
                if let t = try? Theme.load(name, folders: folders) { themes.append(t) }
            }
            var startTheme = 0
            var themeWarning: String?
            if let theme {
                do {
                    let chosen = try Theme.load(theme, folders: folders)
                    themes.removeAll { $0.name == chosen.name }
                    themes.insert(chosen, at: 0)
                } catch let error as Theme.ParseError {
                    themeWarning = error.description
                } catch {
                    throw FiTError.invalidInput("\(error)")
                }
                startTheme = 0
            }
            let guess = GraphicsProtocol.guess(environment: ProcessInfo.processInfo.environment)
            let (pixels, _) = graphics.resolved(guess: guess, askable: isatty(STDIN_FILENO) != 0 && isatty(STDOUT_FILENO) != 0)
            let terminal: NcursesTerminal
            do { terminal = try NcursesTerminal(requested: color) } catch let e as NcursesTerminal.StartError {
                throw FiTError.invalidInput(e.description)
            }
            defer { terminal.shutdown() }
            var session = ExplorerSession(terminal: terminal, loaded: loaded, info: info, themes: themes,
                                          exporter: Exporter(folder: outDir, loaded: loaded), graphics: pixels)
            session.state.themeIndex = startTheme
            if let themeWarning { session.state.message = themeWarning }
            session.run()
        }
    }
}
