import ArgumentParser
import FiTKit
import Foundation

/// `fit bench frame`: milliseconds to compose and draw one full explorer frame through ncurses
/// (xterm-256color, output to a scratch file), a new noisy picture every frame as during sampling,
/// and the bytes each frame sends: half blocks, or the picture through an image protocol.
struct FrameBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "frame", abstract: "Time full-screen explorer frames.")

    @Option(help: "Screen size in cells, COLSxROWS.")
    var size = "200x60"

    @Option(help: "Colours: truecolor, 256, 16 or none.")
    var color: ColorMode = .palette256

    @Option(help: "Frames to time.")
    var frames = 30

    @Option(help: "Canvas pixels: none (half blocks), kitty, sixel or iterm.")
    var graphics: GraphicsChoice = .none

    @Option(help: "Side of the (square) picture in pixels, 8…1024.")
    var picture = 64

    func validate() throws {
        if graphics == .auto { throw ValidationError("--graphics: name one of none, kitty, sixel, iterm") }
        if !(8...1024).contains(picture) { throw ValidationError("--picture must be 8…1024, got \(picture)") }
        if !(1...10_000).contains(frames) { throw ValidationError("--frames must be 1…10000, got \(frames)") }
    }

    func run() throws {
        try Console.reportingErrors {
            let (columns, rows) = try ImageGeometry.parse(size)
            setenv("COLUMNS", "\(columns)", 1)
            setenv("LINES", "\(rows)", 1)
            let term = color == .truecolor ? (NcursesTerminal.directColorEntry(for: "xterm-256color") ?? "xterm-256color") : "xterm-256color"
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("fit-bench-frame-\(getpid()).out").path
            defer { try? FileManager.default.removeItem(atPath: output) }
            let terminal = try NcursesTerminal(term: term, outputPath: output, colorMode: color)
            defer { terminal.shutdown() }
            let model = ModelInfo(name: "bench", classNames: ["noise"], samplers: [.euler], sizePresets: [SizePreset(label: "1:1", width: 64, height: 64)],
                                  sizeStep: 4, maximumSide: 1024,
                                  defaults: GenerationSettings(classID: 0, width: 64, height: 64, steps: frames, sampler: .euler,
                                                               cfg: 4, seed: 0, extrapolation: .none))
            var state = AppState(model: model)
            (state.columns, state.rows) = (columns, rows)
            _ = reduce(&state, .generate)
            var composer = ScreenComposer(theme: .default, renderer: HalfBlockRenderer())
            let pixels = graphics.protocol.flatMap { $0 == .none ? nil : $0 }
            var canvas = pixels.map { CanvasGraphics(graphics: $0, cellPixels: .init(width: 8, height: 16)) }
            composer.pixelCanvas = canvas != nil
            var noise = TorchNoiseSource(seed: 1)
            var composeTime = 0.0, drawTime = 0.0
            for i in 0..<frames {
                let values = noise.normal(count: self.picture * self.picture * 3)
                let picture = RGBImage(width: self.picture, height: self.picture, pixels: values.map { UInt8(min(max(127.5 * $0 + 128, 0), 255)) })
                _ = reduce(&state, .stepArrived(generation: 1, lane: 0, frame: StepFrame(index: i, count: frames, t: 0, xt: picture, x0: picture),
                                                stepsPerSecond: 1))
                let t0 = DispatchTime.now().uptimeNanoseconds
                let grid = composer.compose(state)
                let overlay = try canvas?.update(composer.canvasImages(state), visible: true, now: Double(i)).output ?? ""
                let t1 = DispatchTime.now().uptimeNanoseconds
                terminal.draw(grid, then: overlay)
                let t2 = DispatchTime.now().uptimeNanoseconds
                composeTime += Double(t1 - t0) / 1e6
                drawTime += Double(t2 - t1) / 1e6
            }
            terminal.shutdown()
            let bytes = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
            print(String(format: "fit bench frame: %dx%d cells, %@ colours, %@, %d×%d picture, %d frames: compose %.2f ms + draw %.2f ms = %.2f ms per frame, %.1f KB per frame",
                         columns, rows, color.rawValue, pixels.map { "\($0.rawValue) pixels" } ?? "half blocks", self.picture, self.picture, frames,
                         composeTime / Double(frames), drawTime / Double(frames), (composeTime + drawTime) / Double(frames),
                         Double(bytes) / Double(frames) / 1000))
        }
    }
}
