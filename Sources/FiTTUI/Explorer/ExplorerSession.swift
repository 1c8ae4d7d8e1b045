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

    init(terminal: NcursesTerminal, loaded: LoadedModel, info: ModelInfo, themes: [Theme], exporter: Exporter) {
        self.terminal = terminal
        self.loaded = loaded
        self.themes = themes
        self.exporter = exporter
        worker = GenerationWorker(model: loaded.model, decoder: loaded.decoder)
        state = AppState(model: info)
        state.themeNames = themes.map(\.name)
    }

    mutating func run() {
        var dirty = true
        var lastSize = (0, 0)
        while !state.quitting {
            let size = terminal.size
            if size != lastSize {
                lastSize = size
                apply(.resize(columns: size.columns, rows: size.rows))
                dirty = true
            }
            if dirty {
                let composer = ScreenComposer(theme: themes[state.themeIndex % themes.count],
                                              renderer: HalfBlockRenderer(halfBlocks: terminal.utf8))
                terminal.draw(composer.compose(state))
                dirty = false
                Self.crashIfAsked()
            }
            let busy = state.playing || state.isGenerating
            if let key = terminal.readKey(timeout: busy ? 30 : 200) {
                if key != .resize, let action = KeyMap.action(for: key, in: state, randomSeed: { UInt64(UInt32.random(in: 0...UInt32.max)) }) {
                    apply(action)
                }
                dirty = true
            }
            for action in worker.drain() { apply(action); dirty = true }
            if state.playing {
                let before = state.position
                apply(.tick(now: Double(DispatchTime.now().uptimeNanoseconds) / 1e9))
                if state.position != before || !state.playing { dirty = true }
            }
        }
    }

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
                worker.start(generation: generation, lanes: lanes.map { ($0, state.model.rope(for: $0)) })
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
