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

    @OptionGroup var sampling: SamplingOptions

    @Option(parsing: .unconditional, help: "Show this step (1-based) instead of the final image.")
    var step: Int?

    @Flag(help: "Show the noisy x_t of the step instead of the x0 estimate.")
    var noisy = false

    @Flag(help: "Latent models: draw the per-step preview (the linear latent→RGB projection; the decode itself for a model that carries a small VAE) instead of the VAE decode.")
    var preview = false

    @Option(help: "Colours: truecolor, 256, 16 or none (default: truecolor if COLORTERM says so, else 256).")
    var color: ColorMode?

    @Option(help: "Pixels: kitty (kitty graphics protocol), iterm (inline images), sixel, none (half blocks), or auto: what the environment names (KITTY_WINDOW_ID, TERM_PROGRAM; half blocks inside tmux/screen and when stdout is not a terminal).")
    var graphics: GraphicsChoice = .auto

    /// The widest rendering (wider than any terminal; bounds the memory of the cell grid).
    static let maximumColumns = 4096

    @Option(parsing: .unconditional, help: "Width in columns, at most 4096 (default: the image's width, at most the terminal's).")
    var columns: Int?

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if sampling.classLabel == nil { throw ValidationError("--class is required") }
        if let step, step < 1 { throw ValidationError("--step counts from 1") }
        if let columns, !(1...Self.maximumColumns).contains(columns) {
            throw ValidationError("--columns must be in 1…\(Self.maximumColumns)")
        }
    }

    func run() throws {
        runtime.apply()
        try Console.reportingErrors {
            let loaded = try model.load()
            let plan = try GenerationPlan(model: loaded, request: try sampling.request())
            if sampling.seed == nil { Console.note("seed \(plan.seed) (pass --seed \(plan.seed) to make this image again)") }
            var iterator = try plan.trajectory(seed: plan.seed).makeIterator()
            if let step, let planned = iterator.plannedSteps, step > planned {
                throw FiTError.invalidInput("--step \(step) is beyond the last step of this run (\(planned)); use 1…\(planned) or leave --step out for the final image")
            }
            var chosen: TrajectoryStep?
            while let s = try iterator.nextStep() {
                chosen = s
                if let step, s.index + 1 == step { break }
            }
            guard let chosen else { throw FiTError.invalidInput("the sampler made no steps") }
            if let step, chosen.index + 1 != step {
                throw FiTError.invalidInput("--step \(step) is beyond the last step of this run (\(chosen.index + 1)); use 1…\(chosen.index + 1)")
            }
            let tensor = step == nil ? chosen.next : (noisy ? chosen.xt : chosen.x0)
            let image = preview ? loaded.decoder.preview(tensor, index: 0) : try loaded.decoder.decode(tensor, index: 0)
            let terminal = StdoutTerminal()
            let mode = color ?? terminal.colorMode
            let cols = columns ?? terminal.columns.map { min(image.width, $0) } ?? image.width
            FileHandle.standardOutput.write(Data(try terminal.picture(image, columns: cols, mode: mode, graphics: graphics).utf8))
        }
    }
}
