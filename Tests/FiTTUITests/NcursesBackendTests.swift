import Foundation
import FiTKit
import Testing
@testable import FiTTUI

/// The ncurses backend inside the test process: `newterm` writes to a file, the bytes are
/// replayed through a VT parser, and the screen must equal the `CellGrid` cell by cell.
@Suite(.serialized) struct NcursesBackendTests {
    func replay(_ grid: CellGrid, mode: ColorMode, term: String = "xterm-256color") throws -> VTScreen {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("ncurses-\(UUID().uuidString).out").path
        defer { unlink(path) }
        setenv("LINES", "\(grid.height)", 1)
        setenv("COLUMNS", "\(grid.width)", 1)
        defer { unsetenv("LINES"); unsetenv("COLUMNS") }
        let terminal = try NcursesTerminal(term: term, outputPath: path, colorMode: mode)
        #expect(terminal.size == (grid.width, grid.height))
        terminal.draw(grid)
        terminal.flushOutput() // the frame as drawn, before endwin leaves the alternate screen
        var screen = VTScreen(width: grid.width, height: grid.height)
        screen.feed(Array(try Data(contentsOf: URL(fileURLWithPath: path))))
        terminal.shutdown()
        return screen
    }

    /// A frame with text, box characters and a half-block picture with many colours.
    func frame() -> CellGrid {
        var state = AppState(model: ReducerTests.model)
        (state.columns, state.rows) = (72, 20)
        _ = reduce(&state, .generate)
        var pixels: [UInt8] = []
        for y in 0..<28 { for x in 0..<40 { pixels += [UInt8(x * 6), UInt8(y * 9), UInt8((x * y * 7) % 256)] } }
        let picture = RGBImage(width: 40, height: 28, pixels: pixels) // fits the canvas unscaled: one pixel row per half cell
        _ = reduce(&state, .stepArrived(generation: 1, lane: 0, frame: StepFrame(index: 0, count: 4, t: 0, xt: picture, x0: picture),
                                        stepsPerSecond: 1))
        return ScreenComposer(theme: .default, renderer: HalfBlockRenderer()).compose(state)
    }

    @Test func screenMatchesTheCellGridIn256Colours() throws {
        let grid = frame()
        let screen = try replay(grid, mode: .palette256)
        var mismatches: [String] = []
        for y in 0..<grid.height {
            for x in 0..<grid.width {
                let want = grid[x, y], got = screen[x, y]
                let fg = ColorMode.index256(want.foreground), bg = ColorMode.index256(want.background)
                let glyphOK = got.character == want.character
                // A space shows only its background; its foreground is invisible.
                let colorsOK = got.background == bg && (want.character == " " || got.foreground == fg)
                if !(glyphOK && colorsOK) { mismatches.append("(\(x),\(y)) want '\(want.character)' \(fg)/\(bg) got '\(got.character)' \(got.foreground ?? -1)/\(got.background ?? -1)") }
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) cells differ: \(mismatches.prefix(5))")
        let halfBlocks = (0..<grid.height).reduce(0) { n, y in n + (0..<grid.width).filter { screen[$0, y].character == "▀" }.count }
        #expect(halfBlocks > 400)
    }

    @Test func truecolorThroughTheGeneratedTerminfoEntry() throws {
        let entry = try #require(NcursesTerminal.directColorEntry(for: "xterm-256color"), "tic could not build the -rgb entry")
        let grid = frame()
        let screen = try replay(grid, mode: .truecolor, term: entry)
        func packed(_ c: RGB) -> Int { let v = Int(c.r) << 16 | Int(c.g) << 8 | Int(c.b); return 1 << 24 | (v < 8 ? 8 : v) }
        var mismatches = 0
        for y in 0..<grid.height {
            for x in 0..<grid.width {
                let want = grid[x, y], got = screen[x, y]
                let ok = got.character == want.character && got.background == packed(want.background)
                    && (want.character == " " || got.foreground == packed(want.foreground))
                if !ok { mismatches += 1 }
            }
        }
        #expect(mismatches == 0)
    }

    @Test func sixteenColourModeUsesTheNearestOfSixteen() throws {
        var grid = CellGrid(width: 10, height: 3)
        grid.write("red", x: 1, y: 1, foreground: RGB(250, 10, 10), background: RGB(0, 0, 0))
        let screen = try replay(grid, mode: .palette16)
        #expect(screen[1, 1].character == "r" && screen[3, 1].character == "d")
        #expect(screen[1, 1].foreground == 9)
    }
}
