import Foundation
import Testing
import FiTKit

/// A real terminal shows our sixel: xterm (`-ti vt340`) under Xvfb runs `fit view --graphics sixel`
/// on a half-red, half-blue picture, and a screenshot of its window (xwd) holds those pixels, in
/// that arrangement, and nothing else in those colours.
@Suite struct XtermSixelTests {
    static let tools = ["/usr/bin/xterm", "/usr/bin/Xvfb", "/usr/bin/xwd", "/usr/bin/xwdtopnm"]
    static var available: Bool { tools.allSatisfy { FileManager.default.isExecutableFile(atPath: $0) } }

    @Test(.enabled(if: available)) func xtermDrawsOurSixelPixelForPixel() throws {
        let cli = CommandLineTests()
        let png = cli.scratch("red-blue.png"), shot = URL(fileURLWithPath: png).deletingLastPathComponent().appendingPathComponent("shot.ppm").path
        var pixels: [UInt8] = []
        for _ in 0..<32 { for x in 0..<64 { pixels += x < 32 ? [255, 0, 0] : [0, 0, 255] } }
        try PNGFile.write(RGBImage(width: 64, height: 32, pixels: pixels), to: png)
        let display = ":\(70 + Int(getpid() % 25))"
        let server = try ChildProcess.spawn(["/usr/bin/Xvfb", display, "-screen", "0", "640x480x24"])
        defer { kill(server, SIGKILL); waitpid(server, nil, 0) }
        Thread.sleep(forTimeInterval: 1)
        let terminal = try ChildProcess.spawn(["/usr/bin/env", "DISPLAY=\(display)", "/usr/bin/xterm", "-ti", "vt340",
                                       "-xrm", "XTerm*decTerminalID: vt340", "-xrm", "XTerm*numColorRegisters: 256",
                                       "-geometry", "80x24+0+0", "-bg", "black", "-fg", "white", "-e", "sh", "-c",
                                       "\(CommandLineTests.binary) view \(png) --graphics sixel --columns 8; sleep 20"])
        defer { kill(terminal, SIGKILL); waitpid(terminal, nil, 0) }
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
