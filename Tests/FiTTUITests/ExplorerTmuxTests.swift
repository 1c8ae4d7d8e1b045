import Foundation
import FiTKit
import Testing

/// The real `fit` binary in a real terminal: tmux drives it with keys and reads its screen.
@Suite(.serialized) struct ExplorerTmuxTests {
    let cli = CommandLineTests()

    /// A tmux server of its own (socket per test) with one window of the given size.
    final class Tmux {
        let socket = "fit-test-\(UUID().uuidString.prefix(8))"

        /// Runs a tmux client command through posix_spawn and waitpid (Foundation's Process
        /// does not notice the client exiting once it has forked the tmux server).
        @discardableResult
        func run(_ args: [String], capture: Bool = true) throws -> String {
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("tmux-\(UUID().uuidString)").path
            let pid = try ChildProcess.spawn(["/usr/bin/tmux", "-L", socket] + args, output: capture ? output : "/dev/null")
            var status: Int32 = 0
            waitpid(pid, &status, 0)
            defer { unlink(output) }
            return capture ? ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "") : ""
        }

        func start(_ command: String, columns: Int = 110, rows: Int = 34) throws {
            try run(["-f", "/dev/null", "new-session", "-d", "-x", "\(columns)", "-y", "\(rows)", command], capture: false)
            try run(["set-option", "-g", "remain-on-exit", "on"])
        }

        func keys(_ keys: String...) throws { try run(["send-keys", "-t", "0"] + keys) }
        func screen(escapes: Bool = false) throws -> String { try run(["capture-pane", "-p", "-t", "0"] + (escapes ? ["-e"] : [])) }

        /// Polls the screen until `predicate` holds, up to `seconds`; returns the last screen.
        @discardableResult
        func waitFor(_ what: String, seconds: Double = 30, _ predicate: (String) -> Bool) throws -> String {
            let deadline = Date().addingTimeInterval(seconds)
            var last = ""
            while Date() < deadline {
                last = try screen()
                if predicate(last) { return last }
                Thread.sleep(forTimeInterval: 0.05)
            }
            Issue.record("timed out waiting for \(what); screen:\n\(last)")
            throw CancellationError()
        }

        func waitFor(_ text: String, seconds: Double = 30) throws { try waitFor("'\(text)'", seconds: seconds) { $0.contains(text) } }

        deinit { _ = try? run(["kill-server"], capture: false) }
    }

    static var tmuxAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/bin/tmux") }

    func explore(_ tmux: Tmux, outDir: String, extra: String = "") throws {
        try tmux.start("LANG=C.UTF-8 LC_ALL=C.UTF-8 \(CommandLineTests.binary) explore --model \(cli.fixture("pixel-tiny.safetensors")) "
                       + "--seed 3 --threads 1 --out-dir \(outDir) \(extra)")
    }

    /// Home and End reach the first and last step whatever TERM says and whichever encoding the
    /// terminal sends (tmux sends ESC [1~ / ESC [4~; xterm ESC OH / ESC OF or ESC [H / ESC [F).
    @Test(.enabled(if: tmuxAvailable)) func homeAndEndInEveryEncoding() throws {
        for term in ["xterm-256color", "screen-256color"] {
            let tmux = Tmux()
            let outDir = URL(fileURLWithPath: cli.scratch("x")).deletingLastPathComponent().appendingPathComponent("home-end").path
            try tmux.start("TERM=\(term) LANG=C.UTF-8 LC_ALL=C.UTF-8 \(CommandLineTests.binary) explore --model "
                           + "\(cli.fixture("pixel-tiny.safetensors")) --seed 3 --threads 1 --out-dir \(outDir)")
            try tmux.waitFor("press g to generate")
            try tmux.keys("Down", "Down")
            for _ in 0..<5 { try tmux.keys("H") }
            for _ in 0..<5 { try tmux.keys("l") }
            try tmux.waitFor("steps    6")
            try tmux.keys("g")
            try tmux.waitFor("e: export PNG")
            try tmux.keys("Tab")
            try tmux.waitFor("timeline ◆")
            try tmux.keys("End")
            try tmux.waitFor("finished image")
            try tmux.keys("Left")
            try tmux.waitFor("step 6/6")
            try tmux.keys("Home")
            try tmux.waitFor("step 1/6")
            try tmux.keys("End")
            try tmux.waitFor("finished image")
            for (home, end) in [("\u{1B}OH", "\u{1B}OF"), ("\u{1B}[H", "\u{1B}[F"), ("\u{1B}[1~", "\u{1B}[4~"), ("\u{1B}[7~", "\u{1B}[8~")] {
                try tmux.run(["send-keys", "-t", "0", "-l", home])
                try tmux.waitFor("step 1/6 after \(term) \(home.debugDescription)") { $0.contains("step 1/6") }
                try tmux.run(["send-keys", "-t", "0", "-l", end])
                try tmux.waitFor("the finished image after \(term) \(end.debugDescription)") { $0.contains("finished image") }
            }
            try tmux.keys("q")
        }
    }

    @Test(.enabled(if: tmuxAvailable)) func pickGenerateStepCompareExportQuit() throws {
        let tmux = Tmux()
        let outDir = URL(fileURLWithPath: cli.scratch("x")).deletingLastPathComponent().appendingPathComponent("exports").path
        try explore(tmux, outDir: outDir)
        try tmux.waitFor("press g to generate")

        // Pick class 4 through the filter list.
        try tmux.keys("/")
        try tmux.waitFor("filter:")
        try tmux.keys("4", "Enter")
        try tmux.waitFor("class    4 class 4")

        // Eight steps: select the steps row, −10 ×5 stops at 1, then +7.
        try tmux.keys("Down", "Down")
        for _ in 0..<5 { try tmux.keys("H") }
        for _ in 0..<7 { try tmux.keys("l") }
        try tmux.waitFor("steps    8")

        // g keeps the focus on the settings (Down does not step); Tab moves it to the canvas, visibly.
        try tmux.keys("g")
        try tmux.waitFor("e: export PNG")
        let colored = try tmux.screen(escapes: true)
        #expect(colored.contains("▀"))
        #expect(colored.contains("38;5;") || colored.contains("38;2;"))
        try tmux.keys("Tab")
        try tmux.waitFor("timeline ◆")
        try tmux.keys("End")
        try tmux.waitFor("finished image")
        try tmux.keys("Left")
        try tmux.waitFor("step 8/8")
        try tmux.keys("Left")
        try tmux.waitFor("step 7/8")
        try tmux.keys("Home")
        try tmux.waitFor("step 1/8")
        try tmux.keys("End")
        try tmux.waitFor("finished image")

        // Export the final image.
        try tmux.keys("e")
        try tmux.waitFor("wrote ")
        let exported = try FileManager.default.contentsOfDirectory(atPath: outDir)
        #expect(exported == ["class4-3-final.png"])
        let finalPNG = "\(outDir)/class4-3-final.png"
        let (image, text) = try PNGFile.read(finalPNG)
        #expect(image.width == 32 && image.height == 32)
        #expect(try GenerationRecord.from(pngText: text, path: finalPNG).steps == 8)

        // Compare RoPE modes side by side.
        try tmux.keys("c")
        try tmux.waitFor("compare: RoPE")
        try tmux.keys("g")
        try tmux.waitFor("both lanes done") { $0.contains("none · x0") && $0.contains("VisionNTK · x0") && $0.contains("e: export PNG") }
        // ] picks the other lane's value; e writes both lanes, named by what differs.
        try tmux.keys("]")
        try tmux.waitFor("compare: RoPE → VisionYaRN")
        try tmux.keys("g")
        try tmux.waitFor("VisionYaRN lane done") { $0.contains("VisionYaRN · x0") && $0.contains("e: export PNG") }
        try tmux.keys("x") // exports enlarged ×2
        try tmux.waitFor("export: ×2")
        try tmux.keys("e")
        try tmux.waitFor("wrote ")
        let compared = try FileManager.default.contentsOfDirectory(atPath: outDir).sorted()
        #expect(compared == ["class4-3-VisionYaRN-final.png", "class4-3-auto-none-final.png", "class4-3-final.png"], "\(compared)")
        let enlarged = try PNGFile.read("\(outDir)/class4-3-VisionYaRN-final.png")
        #expect(enlarged.image.width == 64 && enlarged.image.height == 64)
        #expect(try GenerationRecord.from(pngText: enlarged.text, path: outDir).width == 32) // the record is unchanged

        // Resize below the minimum and back.
        try tmux.run(["resize-window", "-t", "0", "-x", "50", "-y", "12"])
        try tmux.waitFor("Terminal too small")
        try tmux.run(["resize-window", "-t", "0", "-x", "110", "-y", "34"])
        try tmux.waitFor("timeline")

        // Help, then quit.
        try tmux.keys("?")
        try tmux.waitFor("focus: settings ↔ canvas")
        try tmux.keys("Escape")
        try tmux.keys("q")
        try tmux.waitFor("the explorer to exit") { $0.contains("Pane is dead") || !$0.contains("timeline") }
    }

    /// A latent model: steps show the linear preview and say so; the final image, and a step on
    /// request (d), are VAE decodes; exporting a step writes its decode at full resolution.
    @Test(.enabled(if: tmuxAvailable)) func latentModelShowsPreviewsAndVAEDecodes() throws {
        let tmux = Tmux()
        let outDir = URL(fileURLWithPath: cli.scratch("x")).deletingLastPathComponent().appendingPathComponent("exports").path
        let vae = LatentModelTests.vaeFixtures.appendingPathComponent("tiny-modern.safetensors").path
        try tmux.start("LANG=C.UTF-8 LC_ALL=C.UTF-8 \(CommandLineTests.binary) explore --model \(cli.fixture("v2-tiny.safetensors")) "
                       + "--vae \(vae) --seed 3 --threads 1 --out-dir \(outDir)")
        try tmux.waitFor("press g to generate")
        try tmux.keys("g")
        try tmux.waitFor("e: export PNG")
        try tmux.waitFor("x0 · VAE (final)")
        try tmux.keys("Home")
        try tmux.waitFor("x0 · preview (d: decode)")
        try tmux.keys("d")
        try tmux.waitFor("x0 decoded with the VAE")
        try tmux.waitFor("x0 · VAE")
        try tmux.keys("p")
        try tmux.waitFor("wrote ")
        let exported = try FileManager.default.contentsOfDirectory(atPath: outDir)
        #expect(exported.count == 1 && exported[0].contains("step1-x0"))
        let image = try PNGFile.read("\(outDir)/\(exported[0])").image
        #expect(image.width == 128 && image.height == 128) // the VAE decode, not the 16×16 preview
        try tmux.keys("q")
        try tmux.waitFor("the explorer to exit") { $0.contains("Pane is dead") || !$0.contains("timeline") }
    }

    @Test(.enabled(if: tmuxAvailable)) func unknownTerminalIsAClearError() throws {
        let tmux = Tmux()
        try tmux.start("TERM=no-such-terminal \(CommandLineTests.binary) explore --model \(cli.fixture("pixel-tiny.safetensors")); echo exit=$?; sleep 10")
        let screen = try tmux.waitFor("the exit status") { $0.contains("exit=") }
        #expect(screen.contains("exit=2"))
        #expect(screen.contains("error: unknown terminal type TERM=no-such-terminal"))
    }

    @Test(.enabled(if: tmuxAvailable)) func nonUTF8LocaleFallsBackToOnePixelPerCell() throws {
        let tmux = Tmux()
        try tmux.start("LANG=C LC_ALL=C \(CommandLineTests.binary) explore --model \(cli.fixture("pixel-tiny.safetensors")) --seed 1 --threads 1 --out-dir /tmp")
        try tmux.waitFor("press g to generate")
        try tmux.keys("g")
        try tmux.waitFor("done")
        let screen = try tmux.screen(escapes: true)
        #expect(!screen.contains("▀"))
        #expect(screen.contains("48;5;"))
        try tmux.keys("q")
    }

    /// Ctrl-C restores the screen and ends fit by SIGINT (re-raised after the clean-up, so that
    /// a calling shell script stops too, as it should). A small parent that survives SIGINT
    /// reports how fit ended and the tty modes it left.
    @Test(.enabled(if: tmuxAvailable)) func controlCRestoresTheTerminal() throws {
        let parent = URL(fileURLWithPath: cli.scratch("parent.py")).path
        try """
            import signal, subprocess, sys
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            code = subprocess.call(sys.argv[1:], preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
            print("exit=%d" % (128 - code if code < 0 else code), flush=True)
            subprocess.call("stty -a | tr ' ' '\\n' | grep -E '^-?(icanon|echo|isig|icrnl)$' | tr '\\n' ' '; echo modes; sleep 60", shell=True)
            """.write(toFile: parent, atomically: true, encoding: .utf8)
        let tmux = Tmux()
        try tmux.start("python3 \(parent) \(CommandLineTests.binary) explore --model \(cli.fixture("pixel-tiny.safetensors")) --seed 2 --threads 1 --out-dir /tmp")
        try tmux.waitFor("press g to generate")
        try tmux.keys("g")
        try tmux.keys("C-c")
        let screen = try tmux.waitFor("the explorer to end") { $0.contains("modes") }
        #expect(screen.contains("exit=130"), "\(screen)")
        #expect(!screen.contains("timeline")) // back on the normal screen, not the explorer's
        try ExplorerRobustnessTests().expectRestored(tmux, screen, context: "Ctrl-C")
    }

    @Test func notATerminalIsAClearError() throws {
        let r = try cli.fit("explore", "--model", cli.fixture("pixel-tiny.safetensors"))
        cli.expectBadInput(r, mentions: "needs an interactive terminal")
    }
}
