import Foundation
import Testing
@testable import FiTKit
@testable import FiTTUI

/// The explorer's canvas through image protocols: where the pictures go (the half-block boxes),
/// the escape sequences that place them, and which frames send what (only changes, at a bounded
/// rate, cleared under overlays and held keys).
@Suite struct CanvasGraphicsTests {
    static let red = RGBImage(width: 2, height: 1, pixels: [255, 0, 0, 0, 0, 255])
    static let blue = RGBImage(width: 2, height: 1, pixels: [0, 0, 255, 255, 0, 0])
    static func box(_ image: RGBImage, x: Int = 10, y: Int = 4) -> CanvasImage {
        CanvasImage(x: x, y: y, columns: 4, rows: 2, image: image)
    }

    /// The 2×1 picture in a 4×2-cell area of 8×16-px cells: 32×16 px, 4×1 cells, centred
    /// (here the top row: half a row to spare rounds down).
    @Test func kittyPlacesAtTheBoxAndRestoresTheCursor() throws {
        let out = try #require(try GraphicsProtocol.kitty.place(Self.box(Self.red), id: 1, cellPixels: nil))
        #expect(out == "\u{1B}7\u{1B}[5;11H\u{1B}_Ga=T,f=24,s=2,v=1,i=1,c=4,r=1,C=1,q=2,m=0;/wAAAAD/\u{1B}\\\u{1B}8")
        #expect(GraphicsProtocol.kitty.clearAll == "\u{1B}_Ga=d,d=A,q=2\u{1B}\\")
        #expect(GraphicsProtocol.sixel.clearAll == nil && GraphicsProtocol.iterm.clearAll == nil)
        #expect(try GraphicsProtocol.none.place(Self.box(Self.red), id: 1, cellPixels: nil) == nil)
    }

    @Test func itermGivesTheBoxInCells() throws {
        let out = try #require(try GraphicsProtocol.iterm.place(Self.box(Self.red), id: 1, cellPixels: nil))
        #expect(out.hasPrefix("\u{1B}7\u{1B}[5;11H\u{1B}]1337;File=inline=1;size=") && out.hasSuffix("\u{07}\u{1B}8"))
        #expect(out.contains(";width=4;height=1;preserveAspectRatio=1:"))
    }

    /// Sixel fills the box in terminal pixels: 4×2 cells of 6×13 px hold 24×26 px; the 2×1 picture
    /// grows by 12 to 24×12 (whole factors keep its pixels crisp).
    @Test func sixelScalesToTheBoxInTerminalPixels() throws {
        let out = try #require(try GraphicsProtocol.sixel.place(Self.box(Self.red), id: 1, cellPixels: .init(width: 6, height: 13)))
        #expect(out.hasPrefix("\u{1B}7\u{1B}[5;11H\u{1B}P") && out.hasSuffix("\u{1B}\\\u{1B}8"))
        #expect(out.contains("\"1;1;24;12"), "raster attributes: \(out.prefix(40))")
        let standard = try #require(try GraphicsProtocol.sixel.place(Self.box(Self.red), id: 1, cellPixels: nil))
        #expect(standard.contains("\"1;1;32;16"))   // 8×16 px cells when the terminal does not say
    }

    @Test func onlyChangedPicturesAreSentAtABoundedRate() throws {
        var graphics = CanvasGraphics(graphics: .kitty)
        let first = try graphics.update([Self.box(Self.red), Self.box(Self.red, x: 40)], visible: true, now: 10)
        #expect(first.output.components(separatedBy: "\u{1B}_Ga=T").count == 3 && !first.repaint && !first.pending)
        #expect(first.output.contains(",i=1,") && first.output.contains(",i=2,"))
        #expect(graphics.lastFrameBytes == first.output.utf8.count)
        // The same pictures: nothing.
        #expect(try graphics.update([Self.box(Self.red), Self.box(Self.red, x: 40)], visible: true, now: 10.02) == .init())
        // A change within the interval waits; after it, only the changed picture goes.
        let early = try graphics.update([Self.box(Self.red), Self.box(Self.blue, x: 40)], visible: true, now: 10.05)
        #expect(early == .init(pending: true))
        let later = try graphics.update([Self.box(Self.red), Self.box(Self.blue, x: 40)], visible: true, now: 10.2)
        #expect(later.output.components(separatedBy: "\u{1B}_Ga=T").count == 2 && later.output.contains(",i=2,"))
        #expect(!later.output.contains("a=d"))
    }

    @Test func hidingClearsKittyAndRepaintsSixel() throws {
        var kitty = CanvasGraphics(graphics: .kitty)
        #expect(kitty.hide() == .init())                                     // nothing shown: nothing to do
        _ = try kitty.update([Self.box(Self.red)], visible: true, now: 1)
        #expect(try kitty.update([Self.box(Self.red)], visible: false, now: 2) == .init(output: GraphicsProtocol.kitty.clearAll!))
        #expect(kitty.shown.isEmpty)
        // Shown again after an overlay: sent again even though the picture is the same.
        #expect(try kitty.update([Self.box(Self.red)], visible: true, now: 3).output.contains("a=T"))

        var sixel = CanvasGraphics(graphics: .sixel)
        _ = try sixel.update([Self.box(Self.red)], visible: true, now: 1)
        #expect(try sixel.update([], visible: true, now: 2) == .init(repaint: true))
        // A box that moved: repaint, then every picture.
        _ = try sixel.update([Self.box(Self.red)], visible: true, now: 3)
        let moved = try sixel.update([Self.box(Self.red, x: 12)], visible: true, now: 4)
        #expect(moved.repaint && moved.output.contains("\u{1B}[5;13H"))
        var kittyMoved = CanvasGraphics(graphics: .kitty)
        _ = try kittyMoved.update([Self.box(Self.red)], visible: true, now: 1)
        let k = try kittyMoved.update([Self.box(Self.red, y: 6)], visible: true, now: 2)
        #expect(!k.repaint && k.output.hasPrefix(GraphicsProtocol.kitty.clearAll!) && k.output.contains("\u{1B}[7;11H"))
    }

    /// The composer's areas are the panels below their labels (the half-block art lies inside),
    /// with `pixelCanvas` those cells are left blank, and a picture fills its area in one
    /// direction with the aspect ratio kept, centred.
    @Test func canvasAreasHoldTheArtAndPicturesFillThem() {
        var state = AppState(model: ReducerTests.model)
        (state.columns, state.rows) = (100, 30)
        _ = reduce(&state, .generate)
        var pixels: [UInt8] = []
        for y in 0..<16 { for x in 0..<24 { pixels += [UInt8(x * 10), UInt8(y * 15), 200] } }
        let picture = RGBImage(width: 24, height: 16, pixels: pixels)
        _ = reduce(&state, .stepArrived(generation: 1, lane: 0, frame: StepFrame(index: 0, count: 4, t: 0, xt: picture, x0: picture),
                                        stepsPerSecond: 1))
        var composer = ScreenComposer(theme: .default, renderer: HalfBlockRenderer())
        let areas = composer.canvasImages(state)
        #expect(areas.count == 1)
        let area = areas[0]
        #expect(area.image == picture && area.x == ScreenComposer.sidebarWidth + 1 && area.y == 2)
        let art = composer.compose(state)
        composer.pixelCanvas = true
        let blank = composer.compose(state)
        let background = composer.theme[.canvasBackground]
        var artCells: [(Int, Int)] = []
        for y in 0..<state.rows {
            for x in ScreenComposer.sidebarWidth..<state.columns where art[x, y] != blank[x, y] { artCells.append((x, y)) }
        }
        #expect(!artCells.isEmpty)
        #expect(artCells.allSatisfy { $0.0 >= area.x && $0.0 < area.x + area.columns && $0.1 >= area.y && $0.1 < area.y + area.rows })
        #expect((area.y..<(area.y + area.rows)).allSatisfy { y in (area.x..<(area.x + area.columns)).allSatisfy { blank[$0, y].background == background } })
        for cell in [TerminalQuery.PixelSize(width: 8, height: 16), .init(width: 6, height: 13), .init(width: 10, height: 24)] {
            let box = area.fitted(cellPixels: cell)
            // Fills the width or the height, keeps the aspect ratio (to a pixel), stays centred and inside.
            #expect(box.width == area.columns * cell.width || box.height == area.rows * cell.height, "\(box)")
            #expect(abs(box.width * picture.height - box.height * picture.width) <= max(picture.width, picture.height), "\(box)")
            #expect(box.column >= area.x && box.column + box.columns <= area.x + area.columns)
            #expect(box.row >= area.y && box.row + box.rows <= area.y + area.rows)
            #expect(abs((box.column - area.x) - (area.x + area.columns - box.column - box.columns)) <= 1)
        }
        // x_t and x0 side by side: two areas, the second right of the first.
        var both = state
        both.view = .both
        let pair = composer.canvasImages(both)
        #expect(pair.count == 2 && pair[0].x + pair[0].columns <= pair[1].x && pair[0].y == pair[1].y)
        // Too small, or nothing generated: nothing.
        var small = state
        (small.columns, small.rows) = (40, 10)
        #expect(composer.canvasImages(small).isEmpty)
        #expect(composer.canvasImages(AppState(model: ReducerTests.model)).isEmpty)
    }

    @Test func tmuxPassthroughDoublesEveryEscape() {
        #expect(GraphicsProtocol.tmuxPassthrough("\u{1B}_Ga=T;AAAA\u{1B}\\") == "\u{1B}Ptmux;\u{1B}\u{1B}_Ga=T;AAAA\u{1B}\u{1B}\\\u{1B}\\")
        #expect(GraphicsProtocol.tmuxPassthrough("") == "\u{1B}Ptmux;\u{1B}\\")
    }

    /// A protocol asked for by name is used, even inside tmux (through its passthrough); GNU
    /// screen always gets half blocks; `auto` takes the environment's guess without asking when
    /// it cannot ask.
    @Test func graphicsChoiceResolves() {
        let plain = ["TERM": "xterm-256color"]
        #expect(GraphicsChoice.kitty.resolved(guess: .none, askable: false, environment: plain).0 == .kitty)
        #expect(GraphicsChoice.sixel.resolved(guess: .kitty, askable: false, environment: ["TMUX": "x", "TERM": "screen-256color"]).0 == .sixel)
        #expect(GraphicsChoice.kitty.resolved(guess: .none, askable: false, environment: ["STY": "1.pts-0", "TERM": "screen"]).0 == .none)
        #expect(GraphicsChoice.iterm.resolved(guess: .none, askable: false, environment: ["TERM": "screen.xterm-256color"]).0 == .none)
        #expect(GraphicsChoice.auto.resolved(guess: .kitty, askable: false, environment: plain).0 == .kitty)
        #expect(GraphicsChoice.auto.resolved(guess: .none, askable: false, environment: plain).0 == .none)
        #expect(GraphicsChoice.none.resolved(guess: .kitty, askable: true, environment: plain).0 == .none)
    }
}
