import FiTKit
import Foundation

/// The explorer's event loop: keys and worker reports become actions, effects run here, and
/// every change is drawn with one frame.
struct ExplorerSession {
    let terminal: NcursesTerminal
    let loaded: LoadedModel
    let themes: [Theme]
    let exporter: Exporter
    let worker: GenerationWorker
    var state: AppState
    /// The canvas through an image protocol (nil: half blocks).
    private var canvasGraphics: CanvasGraphics?
    /// Inside tmux the pictures go through its passthrough (asked for by name: `auto` keeps
    /// half blocks there); they land right where the pane starts at the window's top left.
    private let throughTmux = StdoutTerminal.insideTmux

    /// Keys closer together than this (seconds) count as a key held down: the canvas falls back
    /// to half blocks until no key has come for ``heldKeyRelease``.
    static let heldKeyGap = 0.1
    static let heldKeyRelease = 0.15

    init(terminal: NcursesTerminal, loaded: LoadedModel, info: ModelInfo, themes: [Theme], exporter: Exporter,
         graphics: GraphicsProtocol = .none) {
        self.terminal = terminal
        self.loaded = loaded
        self.themes = themes
        self.exporter = exporter
        worker = GenerationWorker(loaded: loaded)
        state = AppState(model: info)
        state.themeNames = themes.map(\.name)
        canvasGraphics = graphics == .none ? nil : CanvasGraphics(graphics: graphics, cellPixels: terminal.cellPixels)
    }

    mutating func run() {
        var dirty = true
        var lastSize = (0, 0)
        var lastKey = -Double.infinity, keysHeld = false, graphicsPending = false
        while !state.quitting {
            let size = terminal.size
            var hideFirst = false
            if size != lastSize {
                lastSize = size
                apply(.resize(columns: size.columns, rows: size.rows))
                let cellPixels = terminal.cellPixels
                canvasGraphics?.cellPixels = cellPixels
                hideFirst = true
                dirty = true
            }
            let now = Self.now()
            if keysHeld && now - lastKey > Self.heldKeyRelease { keysHeld = false; dirty = true }
            if dirty || graphicsPending {
                drawFrame(now: now, keysHeld: keysHeld, hideFirst: hideFirst, pending: &graphicsPending)
                dirty = false
                Self.crashIfAsked()
            }
            let busy = state.playing || state.isGenerating
            let timeout: Int32 = keysHeld || graphicsPending ? 40 : busy ? 30 : 200
            if let key = terminal.readKey(timeout: timeout) {
                let time = Self.now()
                keysHeld = time - lastKey < Self.heldKeyGap
                lastKey = time
                if key != .resize, let action = KeyMap.action(for: key, in: state, randomSeed: { UInt64(UInt32.random(in: 0...UInt32.max)) }) {
                    apply(action)
                }
                dirty = true
            }
            for action in worker.drain() { apply(action); dirty = true }
            if state.playing {
                let before = state.position
                apply(.tick(now: Self.now()))
                if state.position != before || !state.playing { dirty = true }
            }
        }
        if let clear = canvasGraphics?.hide().output, !clear.isEmpty { terminal.writeRaw(forTerminal(clear)) }
        if state.isGenerating {
            state.message = "quitting: finishing the current step"
            terminal.draw(makeComposer().compose(state))
        }
        worker.stop()
    }

    /// Draws one frame: the cells through ncurses, then the canvas pictures through the image
    /// protocol when there is one and nothing covers the canvas (an overlay, keys held down).
    private mutating func drawFrame(now: Double, keysHeld: Bool, hideFirst: Bool, pending: inout Bool) {
        var composer = makeComposer()
        guard var graphics = canvasGraphics else {
            terminal.draw(composer.compose(state))
            return
        }
        var update = hideFirst ? graphics.hide() : CanvasGraphics.Update()
        let images = composer.canvasImages(state)
        let visible = state.overlay == nil && !keysHeld && !images.isEmpty
        do {
            let next = try graphics.update(images, visible: visible, now: now)
            update.repaint = update.repaint || next.repaint
            update.output += next.output
            update.pending = next.pending
            composer.pixelCanvas = visible
        } catch {
            // A picture that cannot be encoded (libpng failed): half blocks for this frame.
            composer.pixelCanvas = false
        }
        canvasGraphics = graphics
        pending = update.pending
        if update.repaint { terminal.repaintEverything() }
        terminal.draw(composer.compose(state), then: forTerminal(update.output))
    }

    /// A composer with the current theme and the terminal's cell renderer.
    private func makeComposer() -> ScreenComposer {
        ScreenComposer(theme: themes[state.themeIndex % themes.count], renderer: HalfBlockRenderer(halfBlocks: terminal.utf8))
    }

    /// `output` as the terminal must receive it: wrapped in tmux's passthrough inside tmux.
    private func forTerminal(_ output: String) -> String {
        throughTmux && !output.isEmpty ? GraphicsProtocol.tmuxPassthrough(output) : output
    }

    /// Seconds on the monotonic clock.
    private static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// `FIT_DEBUG_CRASH=trap|segv|abort` crashes the explorer after its first frame, so that a
    /// test can check that a crash leaves the terminal usable (undocumented, for tests only).
    private static func crashIfAsked() {
        switch ProcessInfo.processInfo.environment["FIT_DEBUG_CRASH"] {
        case "trap": fatalError("FIT_DEBUG_CRASH=trap: a deliberate crash")
        case "segv": UnsafeMutablePointer<Int>(bitPattern: 16)!.pointee = 1 // a real invalid access
        case "abort": abort()
        default: break
        }
    }

    private mutating func apply(_ action: Action) {
        for effect in reduce(&state, action) {
            switch effect {
            case .startGeneration(let generation, let lanes):
                worker.start(generation: generation, lanes: lanes.map { state.model.request(for: $0) })
            case .decodeStep(let generation, let lane, let index):
                worker.decode(generation: generation, lane: lane, index: index)
            case .cancelGeneration(let through):
                worker.cancelAll(through: through)
            case .export(let kind, let step):
                do {
                    let paths = try exporter.export(kind, step: step, state: state)
                    apply(.exported(paths.joined(separator: ", ")))
                } catch {
                    apply(.exportFailed("\(error)"))
                }
            case .quit:
                break
            }
        }
    }
}
