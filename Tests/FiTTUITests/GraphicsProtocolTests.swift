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
        let kitty = try cli.fit("view", png, "--graphics", "kitty", "--columns", "4")
        #expect(kitty.status == 0 && kitty.stdout.hasPrefix("\u{1B}_Ga=T,f=24,s=2,v=1,c=4,q=2,m=0;/wAAAAD/"), "\(kitty.stderr)")
        // auto with stdout a pipe: half blocks, whatever the environment says.
        let rows = cli.scratch("rows.png")
        try PNGFile.write(RGBImage(width: 2, height: 2, pixels: [255, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 255]), to: rows)
        let auto = try cli.fit(["view", rows, "--columns", "2"], environment: ["KITTY_WINDOW_ID": "1"])
        #expect(auto.stdout.contains("▀") && !auto.stdout.contains("\u{1B}_G"))
        let render = try cli.fit("render", "--model", cli.fixture("pixel-tiny.safetensors"), "--class", "1", "--steps", "2",
                                 "--seed", "1", "--graphics", "iterm", "--columns", "8")
        #expect(render.status == 0 && render.stdout.hasPrefix("\u{1B}]1337;File=inline=1;"), "\(render.stderr)")
    }
}
