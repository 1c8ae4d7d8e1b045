import Foundation
import Testing
@testable import FiTKit
@testable import FiTTUI

/// Real pixels through the kitty and iTerm2 protocols: golden sequences, chunking, a PNG an
/// independent decoder reads back, and the environment guess.
@Suite struct GraphicsProtocolTests {
    static let tiny = RGBImage(width: 2, height: 1, pixels: [255, 0, 0, 0, 0, 255])

    @Test func kittySendsRGBInOneChunkWhenSmall() throws {
        let out = try #require(try GraphicsProtocol.kitty.encode(Self.tiny, columns: 4))
        #expect(out == "\u{1B}_Ga=T,f=24,s=2,v=1,c=4,q=2,m=0;/wAAAAD/\u{1B}\\\n")
    }

    @Test func kittyChunksLargePayloadsAt4096Bytes() throws {
        let image = RGBImage(width: 64, height: 64, pixels: (0..<(64 * 64 * 3)).map { UInt8($0 % 251) })
        let out = try #require(try GraphicsProtocol.kitty.encode(image, columns: 32))
        let chunks = out.components(separatedBy: "\u{1B}_G").dropFirst()
        let payload = Data(image.pixels).base64EncodedString()
        #expect(chunks.count == (payload.count + 4095) / 4096)
        #expect(chunks.first!.hasPrefix("a=T,f=24,s=64,v=64,c=32,q=2,m=1;"))
        #expect(chunks.last!.hasPrefix("m=0;"))
        #expect(chunks.dropFirst().dropLast().allSatisfy { $0.hasPrefix("m=1;") })
        // The chunks put together are the pixels.
        let joined = chunks.map { chunk -> String in
            let body = chunk[chunk.index(after: chunk.firstIndex(of: ";")!)...]
            return String(body.prefix { $0 != "\u{1B}" })
        }.joined()
        #expect(Data(base64Encoded: joined) == Data(image.pixels))
    }

    @Test func itermSendsAPNGThatDecodesToThePixels() throws {
        let out = try #require(try GraphicsProtocol.iterm.encode(Self.tiny, columns: 7))
        #expect(out.hasPrefix("\u{1B}]1337;File=inline=1;size=") && out.hasSuffix("\u{07}\n"))
        #expect(out.contains(";width=7;preserveAspectRatio=1:"))
        let base64 = String(out[out.index(after: out.lastIndex(of: ":")!)...].dropLast(2))
        let png = try #require(Data(base64Encoded: base64))
        #expect(out.contains("size=\(png.count);"))
        #expect(try PNGFile.decode(png).image == Self.tiny)
        #expect(try GraphicsProtocol.none.encode(Self.tiny, columns: 7) == nil)
    }

    @Test func theGuessFollowsTheEnvironmentAndStaysOutOfTmux() {
        #expect(GraphicsProtocol.guess(environment: ["KITTY_WINDOW_ID": "1", "TERM": "xterm-kitty"]) == .kitty)
        #expect(GraphicsProtocol.guess(environment: ["TERM_PROGRAM": "WezTerm"]) == .kitty)
        #expect(GraphicsProtocol.guess(environment: ["TERM_PROGRAM": "iTerm.app"]) == .iterm)
        #expect(GraphicsProtocol.guess(environment: ["TERM_PROGRAM": "iTerm.app", "TMUX": "/tmp/x"]) == .none)
        #expect(GraphicsProtocol.guess(environment: ["KITTY_WINDOW_ID": "1", "TERM": "screen-256color"]) == .none)
        #expect(GraphicsProtocol.guess(environment: ["TERM": "xterm-256color"]) == .none)
    }

    @Test func viewAndRenderWriteTheProtocolAskedFor() throws {
        let cli = CommandLineTests()
        let png = cli.scratch("g.png")
        try PNGFile.write(Self.tiny, to: png)
        // Outside any multiplexer, whatever runs the tests.
        let bare = ["TMUX": "", "STY": "", "TERM": "xterm-256color"]
        let kitty = try cli.fit(["view", png, "--graphics", "kitty", "--columns", "4"], environment: bare)
        #expect(kitty.status == 0 && kitty.stdout.hasPrefix("\u{1B}_Ga=T,f=24,s=2,v=1,c=4,q=2,m=0;/wAAAAD/"), "\(kitty.stderr)")
        // Inside tmux, asked for by name: through tmux's passthrough, every ESC doubled.
        let tmux = try cli.fit(["view", png, "--graphics", "kitty", "--columns", "4"], environment: ["TMUX": "/tmp/tmux-0/default,1,0", "STY": "", "TERM": "tmux-256color"])
        #expect(tmux.status == 0 && tmux.stdout.hasPrefix("\u{1B}Ptmux;\u{1B}\u{1B}_Ga=T,f=24,s=2,v=1,c=4,q=2,m=0;/wAAAAD/\u{1B}\u{1B}\\\u{1B}\\"),
                "\(tmux.stdout.debugDescription)")
        // auto with stdout a pipe: half blocks, whatever the environment says.
        let rows = cli.scratch("rows.png")
        try PNGFile.write(RGBImage(width: 2, height: 2, pixels: [255, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 255]), to: rows)
        let auto = try cli.fit(["view", rows, "--columns", "2"], environment: ["KITTY_WINDOW_ID": "1"])
        #expect(auto.stdout.contains("▀") && !auto.stdout.contains("\u{1B}_G"))
        let render = try cli.fit(["render", "--model", cli.fixture("pixel-tiny.safetensors"), "--class", "1", "--steps", "2",
                                  "--seed", "1", "--graphics", "iterm", "--columns", "8"], environment: bare)
        #expect(render.status == 0 && render.stdout.hasPrefix("\u{1B}]1337;File=inline=1;"), "\(render.stderr)")
    }

    /// Replies to the terminal query: kitty's OK, DA1 with and without sixel, silence and garbage.
    @Test func queryRepliesAreParsed() throws {
        let kittyAndSixel = Array("\u{1B}_Gi=31;OK\u{1B}\\\u{1B}[?62;4;22c".utf8)
        #expect(TerminalQuery.parse(kittyAndSixel) == .init(kitty: true, sixel: true))
        #expect(TerminalQuery.parse(kittyAndSixel).best == .kitty)
        #expect(TerminalQuery.parse(Array("\u{1B}[?1;2c".utf8)) == .init(kitty: false, sixel: false))
        #expect(TerminalQuery.parse(Array("\u{1B}_Gi=31;ENOTSUPPORTED\u{1B}\\\u{1B}[?64;4c".utf8)) == .init(kitty: false, sixel: true))
        #expect(TerminalQuery.parse([]) == .init())
        // XTSMGRAPHICS: the sixel geometry when the status is 0, nothing for an error or nonsense.
        let xterm = Array("\u{1B}[?2;0;1000;800S\u{1B}[?63;1;2;4;6c".utf8)
        #expect(TerminalQuery.parse(xterm) == .init(kitty: false, sixel: true, sixelGeometry: .init(width: 1000, height: 800)))
        #expect(TerminalQuery.parse(Array("\u{1B}[?2;3;0S\u{1B}[?62;4c".utf8)).sixelGeometry == nil)
        #expect(TerminalQuery.parse(Array("\u{1B}[?2;0;99999999999999999999;5S\u{1B}[?62;4c".utf8)).sixelGeometry == nil)
        #expect(TerminalQuery.parse(Array("\u{1B}[?2;0;-4;5S\u{1B}[?62;4c".utf8)).sixelGeometry == nil)
        // The geometry bounds sixel's whole-factor enlargement: 32 px into 80 columns would be ×16.
        let picture = RGBImage(width: 32, height: 16, pixels: [UInt8](repeating: 200, count: 32 * 16 * 3))
        let big = try #require(try GraphicsProtocol.sixel.encode(picture, columns: 80))
        let bounded = try #require(try GraphicsProtocol.sixel.encode(picture, columns: 80, sixelLimit: .init(width: 100, height: 100)))
        #expect(big.contains("\"1;1;512;256") && bounded.contains("\"1;1;96;48"), "\(big.prefix(40)) / \(bounded.prefix(40))")
        #expect(TerminalQuery.parse([0xFF, 0x1B, 0x5B, 0x3F, 0x00, 0x63, 0x1B]).best == .none)
    }

    /// Reading the reply never waits past its timeout: no reply, a reply too slow, garbage without
    /// an end; a prompt reply ends the read as soon as DA1 is complete.
    @Test func readingTheReplyHonoursItsTimeout() throws {
        func timed(_ script: @escaping @Sendable (Int32) -> Void, timeout: Double) -> (reply: [UInt8], seconds: Double) {
            var fds: [Int32] = [0, 0]
            _ = pipe(&fds)
            let writeEnd = fds[1]
            let finished = DispatchSemaphore(value: 0)
            let writer = Thread { script(writeEnd); close(writeEnd); finished.signal() }
            writer.start()
            let start = Date()
            let reply = TerminalQuery.readReply(from: fds[0], timeout: timeout)
            let seconds = Date().timeIntervalSince(start)
            // The read end stays open until the writer is done: a late write must not raise SIGPIPE.
            finished.wait()
            close(fds[0])
            return (reply, seconds)
        }
        @Sendable func send(_ text: String, _ fd: Int32) { _ = text.withCString { write(fd, $0, strlen($0)) } }
        let silent = timed({ _ in Thread.sleep(forTimeInterval: 0.6) }, timeout: 0.2)
        #expect(silent.reply.isEmpty && silent.seconds < 0.5, "\(silent.seconds) s")
        let slow = timed({ fd in Thread.sleep(forTimeInterval: 0.5); send("\u{1B}[?62;4c", fd) }, timeout: 0.2)
        #expect(slow.reply.isEmpty && slow.seconds < 0.45, "\(slow.seconds) s")
        let garbage = timed({ fd in for _ in 0..<20 { send("xyz\u{1B}[", fd); Thread.sleep(forTimeInterval: 0.02) } }, timeout: 0.2)
        #expect(garbage.seconds < 0.5 && TerminalQuery.parse(garbage.reply).best == .none)
        let prompt = timed({ fd in send("\u{1B}_Gi=31;OK\u{1B}\\", fd); send("\u{1B}[?62;22c", fd); Thread.sleep(forTimeInterval: 0.6) }, timeout: 2)
        #expect(prompt.seconds < 0.5 && TerminalQuery.parse(prompt.reply).best == .kitty, "\(prompt.seconds) s")
    }

    static var sixelDecoderAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/sixel2png") }

    /// libsixel's decoder (sixel2png, an independent implementation) reads our sixel back as the
    /// picture mapped to the 240-colour palette, for sizes that are and are not multiples of six.
    @Test(.enabled(if: sixelDecoderAvailable), arguments: [(7, 5), (13, 12), (3, 1)])
    func libsixelDecodesOurSixel(_ width: Int, _ height: Int) throws {
        var rng = SplitMix(seed: UInt64(width * 100 + height))
        let pixels = (0..<(width * height * 3)).map { _ in UInt8(rng.next() % 256) }
        let image = RGBImage(width: width, height: height, pixels: pixels)
        let sixel = SixelEncoder.encode(image)
        #expect(sixel.hasPrefix("\u{1B}P0;1;0q\"1;1;\(width);\(height)") && sixel.hasSuffix("\u{1B}\\"))
        let cli = CommandLineTests()
        let input = cli.scratch("p.six"), output = URL(fileURLWithPath: input).deletingLastPathComponent().appendingPathComponent("p.png").path
        try sixel.write(toFile: input, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sixel2png")
        process.arguments = ["-i", input, "-o", output]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let decoded = try PNGFile.read(output).image
        #expect(decoded.width == width && decoded.height == height)
        var worst = 0
        for i in 0..<(width * height) {
            let expected = ColorMode.color256(ColorMode.index256(RGB(pixels[3 * i], pixels[3 * i + 1], pixels[3 * i + 2])))
            let got = (decoded.pixels[3 * i], decoded.pixels[3 * i + 1], decoded.pixels[3 * i + 2])
            worst = max(worst, abs(Int(got.0) - Int(expected.r)), abs(Int(got.1) - Int(expected.g)), abs(Int(got.2) - Int(expected.b)))
        }
        #expect(worst <= 3, "largest channel difference \(worst)") // percent colour components round
    }

    @Test func sixelRunsAreLengthEncoded() {
        let flat = RGBImage(width: 10, height: 6, pixels: [UInt8](repeating: 255, count: 180))
        #expect(SixelEncoder.encode(flat) == "\u{1B}P0;1;0q\"1;1;10;6#231;2;100;100;100#231!10~-\u{1B}\\")
    }
}
