import Foundation
import Testing

/// The explorer in a real terminal under abuse: a deliberate crash, thousands of random keys and
/// resizes. Whatever happens, the terminal is left usable.
@Suite(.serialized) struct ExplorerRobustnessTests {
    typealias Tmux = ExplorerTmuxTests.Tmux
    let cli = CommandLineTests()

    /// The shell line after the explorer: its exit status and the tty modes it left behind.
    static let epilogue = "; echo exit=$?; stty -a | tr ' ' '\\n' | grep -E '^-?(icanon|echo|isig|icrnl)$' | tr '\\n' ' '; echo modes; sleep 60"

    /// Sane modes, the normal screen and a visible cursor.
    func expectRestored(_ tmux: Tmux, _ screen: String, context: String) throws {
        for mode in ["icanon", "echo", "isig", "icrnl"] {
            #expect(screen.contains(" \(mode) ") || screen.contains("\n\(mode) ") || screen.contains("\(mode) "), "\(context): \(mode) missing")
            #expect(!screen.contains("-\(mode)"), "\(context): \(mode) is off")
        }
        let flags = try tmux.run(["display-message", "-p", "-t", "0", "#{alternate_on} #{cursor_flag}"])
        #expect(flags.trimmingCharacters(in: .whitespacesAndNewlines) == "0 1", "\(context): alternate screen / cursor: \(flags)")
    }

    /// A crash (a Swift trap, a segfault, an abort) restores the terminal, keeps the signal's
    /// exit status and lets the crash report through.
    @Test(.enabled(if: ExplorerTmuxTests.tmuxAvailable), arguments: [("trap", [132, 133]), ("segv", [139]), ("abort", [134])])
    func aCrashLeavesTheTerminalSane(_ mode: String, _ statuses: [Int]) throws {
        let tmux = Tmux()
        try tmux.start("LANG=C.UTF-8 SWIFT_BACKTRACE=interactive=no FIT_DEBUG_CRASH=\(mode) \(CommandLineTests.binary) explore "
                       + "--model \(cli.fixture("pixel-tiny.safetensors")) --threads 1 --out-dir /tmp" + Self.epilogue)
        let screen = try tmux.waitFor("the crashed explorer's shell line", seconds: 60) { $0.contains("modes") }
        let status = screen.components(separatedBy: "exit=").last.flatMap { Int($0.prefix { $0.isNumber }) }
        #expect(status.map(statuses.contains) == true, "exit status \(status.map(String.init) ?? "none"):\n\(screen)")
        try expectRestored(tmux, screen, context: mode)
    }

    /// Quitting while a generation is under way waits for the step in progress: a step still
    /// inside oneDNN or BLAS while `exit` unloads them crashed the explorer (SIGSEGV, about one
    /// quit in seven). Twelve quits, each sent right behind `g`, with the embedded model.
    @Test(.enabled(if: ExplorerTmuxTests.tmuxAvailable)) func quittingMidGenerationExitsCleanly() throws {
        for attempt in 1...12 {
            let tmux = Tmux()
            try tmux.start("LANG=C.UTF-8 SWIFT_BACKTRACE=interactive=no \(CommandLineTests.binary) explore --seed \(attempt) "
                           + "--out-dir /tmp" + Self.epilogue, columns: 100, rows: 30)
            try tmux.waitFor("press g to generate")
            try tmux.keys("g", "q")
            let screen = try tmux.waitFor("the explorer to quit (attempt \(attempt))", seconds: 30) { $0.contains("modes") }
            #expect(screen.contains("exit=0"), "attempt \(attempt):\n\(screen)")
            if !screen.contains("exit=0") { return }
        }
    }

    /// At least 2,000 seeded random keys (every key the key map knows) and 20 resizes, then a
    /// clean quit. `FIT_SOAK_SEED` replays a run; the seed is printed with every failure.
    @Test(.enabled(if: ExplorerTmuxTests.tmuxAvailable)) func soakWithRandomKeysAndResizes() throws {
        let seed = ProcessInfo.processInfo.environment["FIT_SOAK_SEED"].flatMap(UInt64.init) ?? UInt64.random(in: 0...UInt64(UInt32.max))
        var rng = SplitMix(seed: seed)
        let keys = ["Up", "Down", "Left", "Right", "k", "j", "h", "l", "H", "L", "PageUp", "PageDown", "Home", "End", "Tab", "BTab",
                    "Enter", "g", "Escape", "Space", "+", "=", "-", "v", "c", "C", "e", "s", "p", "d", "?", "F1", "/", "r", "n", "N",
                    "t", "BSpace", "4", "x", "6"]
        let outDir = URL(fileURLWithPath: cli.scratch("x")).deletingLastPathComponent().appendingPathComponent("soak").path
        let tmux = Tmux()
        try tmux.start("LANG=C.UTF-8 SWIFT_BACKTRACE=interactive=no \(CommandLineTests.binary) explore --model "
                       + "\(cli.fixture("pixel-tiny.safetensors")) --seed 5 --threads 1 --out-dir \(outDir)" + Self.epilogue,
                       columns: 100, rows: 30)
        try tmux.waitFor("press g to generate")
        let total = 2000, resizes = 20
        var sent = 0
        for round in 0..<resizes {
            var batch: [String] = []
            while sent < total * (round + 1) / resizes {
                batch.append(keys[Int(rng.next() % UInt64(keys.count))])
                sent += 1
                if batch.count == 20 { try tmux.run(["send-keys", "-t", "0"] + batch); batch = [] }
            }
            if !batch.isEmpty { try tmux.run(["send-keys", "-t", "0"] + batch) }
            let (w, h) = (40 + Int(rng.next() % 120), 8 + Int(rng.next() % 40))
            try tmux.run(["resize-window", "-t", "0", "-x", "\(w)", "-y", "\(h)"])
            Thread.sleep(forTimeInterval: 0.05)
            let alive = try tmux.screen()
            #expect(!alive.contains("exit="), "seed \(seed): the explorer ended after \(sent) keys:\n\(alive)")
            if alive.contains("exit=") { return }
        }
        try tmux.run(["resize-window", "-t", "0", "-x", "100", "-y", "30"])
        // Close whatever overlay is open, then quit.
        for _ in 0..<3 {
            try tmux.keys("Escape")
            Thread.sleep(forTimeInterval: 0.2)
        }
        try tmux.keys("q")
        let screen = try tmux.waitFor("the explorer to quit (seed \(seed))", seconds: 30) { $0.contains("modes") }
        #expect(screen.contains("exit=0"), "seed \(seed):\n\(screen)")
        try expectRestored(tmux, screen, context: "soak seed \(seed)")
    }
}
