import Foundation
import Testing
@testable import FiTKit
@testable import FiTTUI

/// A real terminal shows our sixel: xterm (`-ti vt340`) under Xvfb runs `fit view --graphics sixel`
/// on a half-red, half-blue picture, and a screenshot of its window (xwd) holds those pixels, in
/// that arrangement, and nothing else in those colours; and the explorer, driven by keys typed
/// into that xterm (xdotool), draws its canvas as sixel pixels that match the exported image.
@Suite(.serialized) struct XtermSixelTests {
    static let tools = ["/usr/bin/xterm", "/usr/bin/Xvfb", "/usr/bin/xwd", "/usr/bin/xwdtopnm", "/usr/bin/xdotool"]
    static var available: Bool { tools.allSatisfy { FileManager.default.isExecutableFile(atPath: $0) } }

    @Test(.enabled(if: available)) func xtermDrawsOurSixelPixelForPixel() throws {
        let cli = CommandLineTests()
        let png = cli.scratch("red-blue.png"), shot = URL(fileURLWithPath: png).deletingLastPathComponent().appendingPathComponent("shot.ppm").path
        var pixels: [UInt8] = []
        for _ in 0..<32 { for x in 0..<64 { pixels += x < 32 ? [255, 0, 0] : [0, 0, 255] } }
        try PNGFile.write(RGBImage(width: 64, height: 32, pixels: pixels), to: png)
        let display = ":\(70 + Int(getpid() % 25))"
        let xterm = try Xterm(display: display, screen: "640x480x24", geometry: "80x24",
                              command: "\(CommandLineTests.binary) view \(png) --graphics sixel --columns 8; sleep 20")
        defer { xterm.stop() }
        // Poll screenshots until the picture is there (xterm and fit start in a second or two).
        var red = 0, blue = 0, redBox = (Int.max, Int.min), blueBox = (Int.max, Int.min)
        for _ in 0..<20 {
            Thread.sleep(forTimeInterval: 0.5)
            let capture = try ChildProcess.spawn(["/bin/sh", "-c", "DISPLAY=\(display) xwd -root -silent | xwdtopnm > \(shot) 2>/dev/null"])
            waitpid(capture, nil, 0)
            guard let (width, height, rgb) = Self.readPPM(shot) else { continue }
            (red, blue, redBox, blueBox) = (0, 0, (Int.max, Int.min), (Int.max, Int.min))
            for i in 0..<(width * height) {
                let (r, g, b) = (rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2])
                if r > 200 && g < 60 && b < 60 { red += 1; redBox = (min(redBox.0, i % width), max(redBox.1, i % width)) }
                if b > 200 && r < 60 && g < 60 { blue += 1; blueBox = (min(blueBox.0, i % width), max(blueBox.1, i % width)) }
            }
            if red >= 1024 && blue >= 1024 { break }
        }
        // 32×32 red and 32×32 blue terminal pixels (one per image pixel), red directly left of blue.
        #expect(red == 1024 && blue == 1024, "red \(red), blue \(blue)")
        #expect(redBox.1 - redBox.0 == 31 && blueBox.0 == redBox.1 + 1 && blueBox.1 - blueBox.0 == 31, "\(redBox) \(blueBox)")
    }

    /// `fit explore --graphics sixel` in xterm: g generates, e exports the final PNG, End shows
    /// the finished image; the canvas then holds that picture as terminal pixels (square, colours within the sixel palette's
    /// rounding), the sidebar's text is still there, and the help overlay (?) removes the picture.
    @Test(.enabled(if: available)) func explorerCanvasIsTheImageInSixelPixels() throws {
        let cli = CommandLineTests()
        let folder = URL(fileURLWithPath: cli.scratch("x")).deletingLastPathComponent().path
        let shot = folder + "/shot.ppm"
        let display = ":\(40 + Int(getpid() % 25))"
        let xterm = try Xterm(display: display, screen: "1024x700x24", geometry: "100x32",
                              command: "cd \(folder) && \(CommandLineTests.binary) explore --graphics sixel --seed 3 --out-dir out; sleep 300")
        defer { xterm.stop() }
        func xdotool(_ command: String) {
            // Focus, then type as a real keyboard would: xterm ignores events sent to a window (XSendEvent).
            let typing = try? ChildProcess.spawn(["/bin/sh", "-c", "export DISPLAY=\(display); xdotool search --class xterm | head -1 | xargs -I{} xdotool windowfocus {}; xdotool \(command)"])
            if let typing { waitpid(typing, nil, 0) }
        }
        func type(_ keys: String) { xdotool("type '\(keys)'") }
        func screenshot() -> (Int, Int, [UInt8])? {
            guard let capture = try? ChildProcess.spawn(["/bin/sh", "-c", "DISPLAY=\(display) xwd -root -silent | xwdtopnm > \(shot) 2>/dev/null"]) else { return nil }
            waitpid(capture, nil, 0)
            return Self.readPPM(shot)
        }
        Thread.sleep(forTimeInterval: 3)
        type("g")
        // Export until the finished image is there (the generation takes a few seconds).
        var exported: String?
        for _ in 0..<180 where exported == nil {   // seconds; a debug build (unoptimised FiTKit) takes a minute or more
            Thread.sleep(forTimeInterval: 1)
            type("e")
            exported = (try? FileManager.default.contentsOfDirectory(atPath: folder + "/out"))?.first { $0.hasSuffix(".png") }
        }
        let png = try #require(exported, "the explorer exported nothing within three minutes")
        let image = try PNGFile.read(folder + "/out/" + png).image
        // The explorer replays the trajectory once when it finishes: End shows the finished image.
        Thread.sleep(forTimeInterval: 0.5)
        xdotool("key End")
        Thread.sleep(forTimeInterval: 1)
        let (width, _, rgb) = try #require(screenshot())
        let shotCopy = folder + "/explorer.ppm"
        try? FileManager.default.removeItem(atPath: shotCopy)
        try? FileManager.default.copyItem(atPath: shot, toPath: shotCopy)
        // Where the picture must be: the composer's area for this screen (100×32 cells, one lane,
        // the exported picture) filled as GraphicsProtocol.place fills it, in xterm's cells (its
        // window less a 2-px border).
        let geometry = try #require(try Self.run("DISPLAY=\(display) xdotool search --class xterm | head -1 | xargs -I{} env DISPLAY=\(display) xdotool getwindowgeometry {}", in: folder)
            .components(separatedBy: "Geometry: ").last?.split(separator: "\n").first)
        let windowSize = geometry.split(separator: "x").compactMap { Int($0) }
        try #require(windowSize.count == 2)
        let cell = (width: (windowSize[0] - 4) / 100, height: (windowSize[1] - 4) / 32)
        var state = AppState(model: ReducerTests.model)
        (state.columns, state.rows) = (100, 32)
        _ = reduce(&state, .generate)
        _ = reduce(&state, .stepArrived(generation: 1, lane: 0, frame: StepFrame(index: 0, count: 1, t: 0, xt: image, x0: image), stepsPerSecond: 1))
        let area = try #require(ScreenComposer(theme: .default, renderer: HalfBlockRenderer()).canvasImages(state).first)
        let box = area.fitted(cellPixels: .init(width: cell.width, height: cell.height))
        let (boxW, boxH) = (box.width, box.height)
        let (x0, top) = (2 + box.column * cell.width, 2 + box.row * cell.height)
        let areaRight = 2 + (area.x + area.columns) * cell.width
        let sidebar = ScreenComposer.sidebarWidth * cell.width
        func lit(_ x: Int, _ y: Int) -> Bool { let i = 3 * (y * width + x); return Int(rgb[i]) + Int(rgb[i + 1]) + Int(rgb[i + 2]) > 30 }
        let litInBox = (top..<(top + boxH)).reduce(0) { sum, y in sum + (x0..<(x0 + boxW)).filter { lit($0, y) }.count }
        #expect(litInBox * 10 >= boxW * boxH * 9, "only \(litInBox) of \(boxW * boxH) pixels of the picture's box are lit")
        // Beside the picture the canvas stays the explorer's black background.
        let besideRange = min(x0 + boxW + 2, areaRight)..<areaRight
        let beside = (top..<(top + boxH)).reduce(0) { sum, y in sum + besideRange.filter { lit($0, y) }.count }
        #expect(beside == 0, "\(beside) lit pixels beside the picture")
        // Sample the centre of every image pixel's square and compare colours.
        var total = 0, worst = 0
        for y in 0..<image.height {
            for x in 0..<image.width {
                let sx = x0 + (2 * x + 1) * boxW / (2 * image.width), sy = top + (2 * y + 1) * boxH / (2 * image.height)
                // Sixel carries the 240-colour palette (in whole percents): compare with the
                // picture's palette colours.
                let i = 3 * (sy * width + sx), q = image[x, y]
                let p = ColorMode.color256(ColorMode.index256(RGB(q.r, q.g, q.b)))
                let d = abs(Int(rgb[i]) - Int(p.r)) + abs(Int(rgb[i + 1]) - Int(p.g)) + abs(Int(rgb[i + 2]) - Int(p.b))
                total += d
                worst = max(worst, d)
            }
        }
        let mean = Double(total) / Double(3 * image.width * image.height)
        print("explorer canvas in xterm: \(boxW)×\(boxH) px at (\(x0), \(top)); mean colour difference \(mean), worst pixel \(worst)")
        #expect(mean <= 3 && worst <= 24, "mean colour difference \(mean) levels per channel (worst pixel \(worst) over 3 channels)")
        // The rest is still the explorer: the sidebar's white text at the top left.
        let sidebarText = (0..<(top + boxH)).reduce(0) { sum, y in sum + (0..<sidebar).filter { x in let i = 3 * (y * width + x); return rgb[i] > 200 && rgb[i + 1] > 200 && rgb[i + 2] > 200 }.count }
        #expect(sidebarText > 200, "sidebar text pixels: \(sidebarText)")
        // The help overlay covers the canvas: the picture's colours are gone from its box.
        type("?")
        Thread.sleep(forTimeInterval: 1.5)
        let (_, _, covered) = try #require(screenshot())
        var same = 0
        for y in stride(from: top, to: top + boxH, by: 2) {
            for x in stride(from: x0, to: x0 + boxW, by: 2) {
                let i = 3 * (y * width + x)
                if covered[i] == rgb[i] && covered[i + 1] == rgb[i + 1] && covered[i + 2] == rgb[i + 2] && Int(rgb[i]) + Int(rgb[i + 1]) + Int(rgb[i + 2]) > 90 { same += 1 }
            }
        }
        #expect(same * 10 < (boxW / 2) * (boxH / 2), "\(same) lit pixels of the picture remain under the help overlay")
        type("q")
    }

    /// An X server (Xvfb) on `display` with one xterm in VT340 mode (sixel, 256 colour registers)
    /// at the top left, running `command` outside any multiplexer.
    struct Xterm {
        let server: pid_t
        let terminal: pid_t

        init(display: String, screen: String, geometry: String, command: String) throws {
            server = try ChildProcess.spawn(["/usr/bin/Xvfb", display, "-screen", "0", screen])
            Thread.sleep(forTimeInterval: 1)
            terminal = try ChildProcess.spawn(["/usr/bin/env", "DISPLAY=\(display)", "/usr/bin/xterm", "-ti", "vt340",
                                               "-xrm", "XTerm*decTerminalID: vt340", "-xrm", "XTerm*numColorRegisters: 256",
                                               "-geometry", "\(geometry)+0+0", "-bg", "black", "-fg", "white", "-e", "sh", "-c",
                                               "unset TMUX STY; \(command)"])
        }

        func stop() {
            for pid in [terminal, server] { kill(pid, SIGKILL); waitpid(pid, nil, 0) }
        }
    }

    /// The standard output of a shell command run in `folder`.
    static func run(_ command: String, in folder: String) throws -> String {
        let out = folder + "/run-\(UUID().uuidString).txt"
        let pid = try ChildProcess.spawn(["/bin/sh", "-c", command], output: out)
        waitpid(pid, nil, 0)
        return (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
    }

    /// A binary PPM (P6, maxval 255): width, height, RGB bytes.
    static func readPPM(_ path: String) -> (Int, Int, [UInt8])? {
        guard let data = FileManager.default.contents(atPath: path), data.count > 16 else { return nil }
        var fields: [String] = [], at = 0
        let bytes = [UInt8](data)
        while fields.count < 4 && at < bytes.count {
            while at < bytes.count && (bytes[at] == 32 || bytes[at] == 10 || bytes[at] == 13 || bytes[at] == 9) { at += 1 }
            var token = ""
            while at < bytes.count && !(bytes[at] == 32 || bytes[at] == 10 || bytes[at] == 13 || bytes[at] == 9) { token.append(Character(UnicodeScalar(bytes[at]))); at += 1 }
            fields.append(token)
        }
        at += 1
        guard fields.count == 4, fields[0] == "P6", let w = Int(fields[1]), let h = Int(fields[2]), fields[3] == "255",
              bytes.count - at >= w * h * 3 else { return nil }
        return (w, h, Array(bytes[at..<(at + w * h * 3)]))
    }
}
