import ArgumentParser
import FiTKit
import Foundation

/// `fit bench frame`: milliseconds to compose and draw one full explorer frame through ncurses
/// (output to /dev/null, xterm-256color), a new noisy picture every frame as during sampling.
struct FrameBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "frame", abstract: "Time full-screen explorer frames.")

    @Option(help: "Screen size in cells, COLSxROWS.")
    var size = "200x60"

    @Option(help: "Colours: truecolor, 256, 16 or none.")
    var color: ColorMode = .palette256

    @Option(help: "Frames to time.")
    var frames = 30

    func run() throws {
        try Console.reportingErrors {
            let (columns, rows) = try ImageGeometry.parse(size)
            setenv("COLUMNS", "\(columns)", 1)
            setenv("LINES", "\(rows)", 1)
            let term = color == .truecolor ? (NcursesTerminal.directColorEntry(for: "xterm-256color") ?? "xterm-256color") : "xterm-256color"
            let terminal = try NcursesTerminal(term: term, outputPath: "/dev/null", colorMode: color)
            defer { terminal.shutdown() }
            let model = ModelInfo(name: "bench", classNames: ["noise"], samplers: [.euler], sizePresets: [SizePreset(label: "1:1", width: 64, height: 64)],
                                  sizeStep: 4, maximumSide: 1024,
                                  defaults: GenerationSettings(classID: 0, width: 64, height: 64, steps: frames, sampler: .euler,
                                                               cfg: 4, seed: 0, extrapolation: .none))
            var state = AppState(model: model)
            (state.columns, state.rows) = (columns, rows)
            _ = reduce(&state, .generate)
            let composer = ScreenComposer(theme: .default, renderer: HalfBlockRenderer())
            var noise = TorchNoiseSource(seed: 1)
            var composeTime = 0.0, drawTime = 0.0
            for i in 0..<frames {
                let values = noise.normal(count: 64 * 64 * 3)
                let picture = RGBImage(width: 64, height: 64, pixels: values.map { UInt8(min(max(127.5 * $0 + 128, 0), 255)) })
                _ = reduce(&state, .stepArrived(generation: 1, lane: 0, frame: StepFrame(index: i, count: frames, t: 0, xt: picture, x0: picture),
                                                stepsPerSecond: 1))
                let t0 = DispatchTime.now().uptimeNanoseconds
                let grid = composer.compose(state)
                let t1 = DispatchTime.now().uptimeNanoseconds
                terminal.draw(grid)
                let t2 = DispatchTime.now().uptimeNanoseconds
                composeTime += Double(t1 - t0) / 1e6
                drawTime += Double(t2 - t1) / 1e6
            }
            terminal.shutdown()
            print(String(format: "fit bench frame: %dx%d cells, %@ colours, %d frames: compose %.2f ms + draw %.2f ms = %.2f ms per frame",
                         columns, rows, color.rawValue, frames, composeTime / Double(frames), drawTime / Double(frames),
                         (composeTime + drawTime) / Double(frames)))
        }
    }
}
