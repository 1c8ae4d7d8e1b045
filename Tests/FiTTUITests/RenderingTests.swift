import Foundation
import FiTKit
import Testing
@testable import FiTTUI

/// Half-block rendering, colour matching, themes and the composed screen, as pure values.
@Suite struct RenderingTests {
    /// A 2×4 picture: rows red, green, blue, blue.
    let image = RGBImage(width: 2, height: 4, pixels: [255, 0, 0, 255, 0, 0, 0, 255, 0, 0, 255, 0,
                                                       0, 0, 255, 0, 0, 255, 0, 0, 255, 0, 0, 255])

    @Test func twoPixelsPerCellWithTheUpperHalfBlock() {
        let grid = HalfBlockRenderer().render(image, columns: 2, rows: 2, background: .black)
        // Golden grid: top row ▀ red over green; bottom row blue on blue is a plain space.
        #expect(grid[0, 0] == Cell(character: "▀", foreground: RGB(255, 0, 0), background: RGB(0, 255, 0)))
        #expect(grid[1, 0] == grid[0, 0])
        #expect(grid[0, 1] == Cell(character: " ", foreground: RGB(0, 0, 255), background: RGB(0, 0, 255)))
    }

    @Test func smallImagesGrowByWholeFactorsAndStayCentred() {
        let grid = HalfBlockRenderer().render(image, columns: 9, rows: 4, background: RGB(1, 2, 3))
        // 2×4 px → factor 2 (4×8 px) in 9 columns × 8 pixel rows, centred at column 2: each pixel
        // row is doubled, so every cell holds two equal pixels and is drawn as a coloured space.
        #expect((0..<9).map { grid[$0, 0].background } == [RGB(1, 2, 3), RGB(1, 2, 3)] + Array(repeating: RGB(255, 0, 0), count: 4)
                    + Array(repeating: RGB(1, 2, 3), count: 3))
        #expect(grid[2, 1] == Cell(character: " ", foreground: RGB(0, 255, 0), background: RGB(0, 255, 0)))
        #expect(grid[5, 3].background == RGB(0, 0, 255))
        #expect(grid.text(row: 0) == String(repeating: " ", count: 9))
    }

    @Test func largeImagesShrinkByBoxAverageKeepingTheAspectRatio() {
        let wide = RGBImage(width: 8, height: 2, pixels: [UInt8](repeating: 200, count: 48))
        let r = HalfBlockRenderer()
        #expect(r.fittedSize(of: wide, columns: 4, rows: 10) == (4, 1))
        #expect(HalfBlockRenderer.resample(wide, width: 4, height: 1).pixels == [UInt8](repeating: 200, count: 12))
    }

    @Test func asciiFallbackUsesOnePixelPerCell() {
        let grid = HalfBlockRenderer(halfBlocks: false).render(image, columns: 2, rows: 4, background: .black)
        #expect(grid[0, 1] == Cell(character: " ", foreground: RGB(0, 255, 0), background: RGB(0, 255, 0)))
    }

    @Test func paletteMatchingUsesCubeMidpointsAndGreys() {
        #expect(ColorMode.index256(RGB(0, 0, 0)) == 16)
        #expect(ColorMode.index256(RGB(255, 255, 255)) == 231)
        #expect(ColorMode.index256(RGB(0x5F, 0x87, 0xAF)) == 16 + 36 * 1 + 6 * 2 + 3)
        #expect(ColorMode.index256(RGB(128, 128, 128)) == 244) // grey 0x80 is closer than cube 0x87
        #expect(ColorMode.color256(244) == RGB(128, 128, 128))
        #expect(ColorMode.index16(RGB(250, 10, 10)) == 9)
    }

    @Test func ansiOutputPerMode() {
        let grid = HalfBlockRenderer().render(image, columns: 2, rows: 2, background: .black)
        let truecolor = AnsiWriter.render(grid, mode: .truecolor)
        #expect(truecolor.hasPrefix("\u{1B}[38;2;255;0;0;48;2;0;255;0m▀▀\u{1B}[0m"))
        #expect(AnsiWriter.render(grid, mode: .palette256).hasPrefix("\u{1B}[38;5;196;48;5;46m▀▀"))
        #expect(!AnsiWriter.render(grid, mode: .none).contains("\u{1B}"))
    }

    @Test func themeFilesParseLikeBtop() throws {
        let theme = try Theme.parse("""
            # comment
            theme[main_bg]="#102030"
            theme[hi_fg]=#FF
            theme[title]="10 20 30"
            theme[unknown_key]="#123456"
            theme[main_fg]=""
            """, name: "t", path: "t.theme")
        #expect(theme[.mainBackground] == RGB(0x10, 0x20, 0x30))
        #expect(theme[.highlight] == RGB(255, 255, 255))
        #expect(theme[.title] == RGB(10, 20, 30))
        #expect(theme[.mainForeground] == Theme.default[.mainForeground])
        #expect(throws: Theme.ParseError(path: "bad.theme", line: 2, text: "theme[main_bg]=#12345")) {
            try Theme.parse("# ok\ntheme[main_bg]=#12345\n", name: "bad", path: "bad.theme")
        }
    }

    @Test func aThemeThatIsNotUTF8NamesItsLineAndTheListNamesDefaultOnce() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fit-themes-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/latin1.theme"
        let bytes = Array("# ok\ntheme[main_bg]=\"#102030\"\n# caf".utf8) + [0xE9] + Array("\n".utf8)
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        #expect(throws: Theme.ParseError(path: path, line: 3, text: "# caf\u{FFFD}", reason: "is not UTF-8 text")) {
            try Theme.load("latin1", folders: [folder])
        }
        FileManager.default.createFile(atPath: folder + "/default.theme", contents: Data("theme[main_bg]=\"#000000\"\n".utf8))
        let names = Theme.available(in: [folder, folder])
        #expect(names == ["default", "latin1"])
        do { _ = try Theme.load("nope", folders: [folder]); Issue.record("expected an error") } catch {
            #expect("\(error)" == "no theme 'nope'; available: default, latin1")
        }
        do { _ = try Theme.load(folder, folders: []); Issue.record("a folder is not a theme") } catch {
            #expect("\(error)".hasPrefix("no theme"))
        }
    }

    @Test func shippedThemesAllParse() throws {
        let folder = CommandLineTests.root.appendingPathComponent("themes").path
        let names = Theme.available(in: [folder])
        #expect(names.count >= 5 && names.contains("light") && names.contains("high-contrast"))
        for name in names { _ = try Theme.load(name, folders: [folder]) }
    }

    @Test func screenShowsSettingsCanvasAndHints() {
        var state = AppState(model: ReducerTests.model)
        state.columns = 100
        state.rows = 30
        let grid = ScreenComposer(theme: .default, renderer: HalfBlockRenderer()).compose(state)
        #expect(grid.text(row: 0).contains("FiT Explorer · test · smiley"))
        #expect(grid.text(row: 3).contains("class    0 smiley"))
        #expect(grid.text(row: 29).contains("g generate"))
        #expect((0..<30).contains { grid.text(row: $0).contains("press g to generate") })
    }

    @Test func tooSmallATerminalGetsAMessageInsteadOfALayout() {
        var state = AppState(model: ReducerTests.model)
        state.columns = 40
        state.rows = 10
        let grid = ScreenComposer(theme: .default, renderer: HalfBlockRenderer()).compose(state)
        #expect((0..<10).contains { grid.text(row: $0).contains("Terminal too small") })
        #expect((0..<10).contains { grid.text(row: $0).contains("need 60x16, have 40x10") })
    }

    @Test func helpOverlayListsEveryKey() {
        var state = AppState(model: ReducerTests.model)
        (state.columns, state.rows, state.overlay) = (100, 30, .help)
        let grid = ScreenComposer(theme: .default, renderer: HalfBlockRenderer()).compose(state)
        let text = (0..<30).map { grid.text(row: $0) }.joined(separator: "\n")
        for key in ["Tab", "Esc", "Home End", "space", "compare", "export", "quit"] { #expect(text.contains(key), "\(key)") }
    }
}
