import ArgumentParser
import FiTKit
import Foundation

/// `fit render`: a generation's picture as half-block art with ANSI colours on stdout — no
/// curses, for `ssh host fit render …` and pipes.
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Print a generated image (or one of its steps) as half-block colour art on stdout."
    )

    @OptionGroup var model: ModelOptions

    @Option(name: [.customLong("class")], help: "Class id or name.")
    var classLabel: String

    @Option(help: "Image size in pixels, WxH (default: the model's training size).")
    var size: String?

    @Option(help: "Sampling steps (default: the model's recommendation).")
    var steps: Int?

    @Option(help: "Sampler (default: the model's recommendation).")
    var sampler: SamplerKind?

    @Option(help: "Guidance scale.")
    var cfg: Double?

    @Option(help: "Seed.")
    var seed: UInt64 = 0

    @Option(help: "Show this step (1-based) instead of the final image.")
    var step: Int?

    @Flag(help: "Show the noisy x_t of the step instead of the x0 estimate.")
    var noisy = false

    @Option(help: "Colours: truecolor, 256, 16 or none (default: truecolor if COLORTERM says so, else 256).")
    var color: ColorMode?

    @Option(help: "Width in columns (default: the image's width, at most the terminal's).")
    var columns: Int?

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1") }
        if let step, step < 1 { throw ValidationError("--step counts from 1") }
        if let columns, columns < 1 { throw ValidationError("--columns must be at least 1") }
    }

    func run() throws {
        runtime.apply()
        try Console.reportingErrors {
            let loaded = try model.load()
            let config = loaded.model.configuration
            let geometry = loaded.geometry
            guard !geometry.isLatent else { throw FiTError.invalidInput("\(loaded.path) is a latent-space model; rendering it needs the SD-VAE decoder") }
            let classID = try loaded.metadata.classID(for: classLabel, numClasses: config.numClasses)
            let recommended = loaded.metadata.recommended
            let (width, height) = try size.map(ImageGeometry.parse)
                ?? recommended.size.map(ImageGeometry.parse) ?? (geometry.nativeSide, geometry.nativeSide)
            let grid = try geometry.grid(width: width, height: height)
            let kind = sampler ?? recommended.sampler ?? SamplerKind.available(for: config)[0]
            let parameters = SamplingParameters(classes: [classID], height: grid.height, width: grid.width,
                                                steps: steps ?? recommended.steps ?? 50, sampler: kind,
                                                guidanceScale: cfg ?? recommended.cfg ?? 4, seed: seed)
            var chosen: TrajectoryStep?
            for s in try DenoisingTrajectory(model: loaded.model, parameters: parameters) {
                chosen = s
                if let step, s.index + 1 == step { break }
            }
            guard let chosen else { return }
            let tensor = step == nil ? chosen.next : (noisy ? chosen.xt : chosen.x0)
            let image = RGBImage(tensor: tensor)
            let env = ProcessInfo.processInfo.environment
            let mode = color ?? (["truecolor", "24bit"].contains(env["COLORTERM"] ?? "") ? .truecolor : .palette256)
            var terminalColumns = 0
            var ws = winsize()
            if isatty(STDOUT_FILENO) != 0, ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &ws) == 0 { terminalColumns = Int(ws.ws_col) }
            let cols = columns ?? (terminalColumns > 0 ? min(image.width, terminalColumns) : image.width)
            let renderer = HalfBlockRenderer(halfBlocks: mode != .none)
            let fitted = renderer.fittedSize(of: image, columns: cols, rows: Int.max / 4)
            let rows = (fitted.pixelRows + renderer.pixelsPerCell - 1) / renderer.pixelsPerCell
            let cells = renderer.render(image, columns: fitted.columns, rows: rows, background: .black)
            FileHandle.standardOutput.write(Data(AnsiWriter.render(cells, mode: mode).utf8))
        }
    }
}
