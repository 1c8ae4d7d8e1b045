import ArgumentParser
import FiTKit
import Foundation

/// `fit bench`: speed measurements, always next to a rate measured in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks (speed is measured here, never in tests).",
        subcommands: [ForwardBench.self, GenerateBench.self, DecodeBench.self, FrameBench.self]
    )
}

/// `fit bench forward`: milliseconds per forward pass with random weights, the achieved
/// GFLOP/s, and the machine's sgemm GFLOP/s on the model's largest GEMM shape in the same run.
struct ForwardBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "forward", abstract: "Time FiT forward passes.")

    @Option(help: "Official model shapes: \(ModelPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var preset: ModelPreset = .fitv2XL

    @Option(help: "Model configuration JSON (overrides --preset).")
    var config: String?

    @Option(help: "Tokens per sample (laid out as the most square grid).")
    var tokens = 256

    @Option(help: "Samples per forward (2 = one guided step).")
    var batch = 2

    @Option(help: "Timed forward passes.")
    var iterations = 3

    @Option(help: "Untimed warm-up passes.")
    var warmup = 1

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var precisionOptions: PrecisionOptions

    func validate() throws {
        guard tokens >= 1, batch >= 1, iterations >= 1, warmup >= 0 else {
            throw ValidationError("--tokens, --batch and --iterations must be at least 1, --warmup at least 0")
        }
    }

    func run() throws {
        runtime.apply()
        try Console.reportingErrors {
            let configuration = try config.map { try ModelCheckpoint.configuration(at: $0) } ?? preset.configuration
            let rows = (1...tokens).last { tokens % $0 == 0 && $0 * $0 <= tokens } ?? 1
            let columns = tokens / rows
            let precision = try precisionOptions.resolved()
            let model = try FiT(configuration: configuration, weights: RandomWeights(configuration: configuration), precision: precision)
            let p = configuration.patchSize
            let x = Tensor(zeros: [batch, configuration.inChannels, rows * p, columns * p])
            for i in 0..<x.count { x.data[i] = Float(i % 17) / 8 - 1 }
            let t = (0..<batch).map { Float($0 + 1) / Float(batch + 1) }
            let y = (0..<batch).map { $0 % configuration.numClasses }
            let (median, best) = try BenchTiming.milliseconds(warmup: warmup, iterations: iterations) {
                _ = try model.forward(x, t: t, y: y)
            }
            let flops = 2 * Double(configuration.forwardMACs(batch: batch, tokens: tokens))
            let gemm = SGEMMProbe.peak(m: batch * tokens, n: configuration.ffnHidden, k: configuration.hiddenSize, precision: precision)
            let library = precision == .bf16 ? "oneDNN \(OneDNN.version) bf16 (\(OneDNN.isaName))" : "OpenBLAS sgemm (\(BLASRuntime.coreName))"
            let achieved = flops / (median / 1000) / 1e9
            if json {
                let object: [String: Any] = [
                    "model": config ?? preset.rawValue, "tokens": tokens, "grid": [rows, columns], "batch": batch,
                    "threads": Parallel.threads, "blas_core": BLASRuntime.coreName, "precision": precision.rawValue,
                    "gemm_library": library, "ms_median": median, "ms_best": best,
                    "gflop_per_forward": flops / 1e9, "gflops": achieved, "sgemm_gflops": gemm.gflops,
                    "sgemm_shape": [gemm.m, gemm.n, gemm.k], "share_of_sgemm": achieved / gemm.gflops,
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("fit bench forward: \(config ?? preset.rawValue), \(tokens) tokens (\(rows)×\(columns)), batch \(batch), "
                      + "threads \(Parallel.threads), precision \(precision.rawValue), GEMM: \(library)")
                print(String(format: "GEMM %d×%d×%d:   %.1f GFLOP/s (best of the same run)", gemm.m, gemm.n, gemm.k, gemm.gflops))
                print(String(format: "forward:          %.1f ms median, %.1f ms best of %d; %.1f GFLOP per forward",
                             median, best, iterations, flops / 1e9))
                print(String(format: "achieved:         %.1f GFLOP/s = %.1f %% of the GEMM rate", achieved, 100 * achieved / gemm.gflops))
            }
        }
    }
}

extension ModelPreset: ExpressibleByArgument {}

/// Wall-clock timing shared by the benchmarks.
enum BenchTiming {
    /// Runs `body` `warmup` times untimed, then `iterations` times timed; the median and best in ms.
    static func milliseconds(warmup: Int, iterations: Int, _ body: () throws -> Void) rethrows -> (median: Double, best: Double) {
        for _ in 0..<warmup { try body() }
        var times: [Double] = []
        for _ in 0..<iterations {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return (times.sorted()[times.count / 2], times.min()!)
    }
}

/// `fit bench decode`: milliseconds per VAE decode with synthetic sd-vae-ft-ema-shaped weights
/// (or a VAE file), the achieved GFLOP/s, and the machine's sgemm rate in the same run.
struct DecodeBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "decode", abstract: "Time SD-VAE decodes.")

    @Option(help: "Output image size in pixels, WIDTHxHEIGHT (multiples of 8).")
    var size = "256x256"

    @Option(help: "A VAE file; without it, synthetic weights in sd-vae-ft-ema's shapes.")
    var vae: String?

    @Option(help: "Decode in tiles of at most N×N latent pixels.")
    var tile: Int?

    @Option(help: "Timed decodes.")
    var iterations = 2

    @Option(help: "Untimed warm-up decodes.")
    var warmup = 1

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        guard iterations >= 1, warmup >= 0 else { throw ValidationError("--iterations must be at least 1, --warmup at least 0") }
        if let tile, tile < 1 { throw ValidationError("--tile must be at least 1, got \(tile)") }
    }

    func run() throws {
        runtime.apply()
        try Console.reportingErrors {
            let decoder = try vae.map { try VAECheckpoint(path: $0).makeDecoder() }
                ?? VAEDecoder(configuration: .sdVAEFtEMA, weights: SyntheticWeights(shapes: VAEConfiguration.sdVAEFtEMA.tensorShapes()))
            let configuration = decoder.configuration
            let f = configuration.downsamplingFactor
            let parts = size.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts.allSatisfy({ $0 > 0 && $0 % f == 0 }) else {
                throw FiTError.invalidInput("--size \(size): give WIDTHxHEIGHT in pixels, both multiples of \(f)")
            }
            let (w, h) = (parts[0] / f, parts[1] / f)
            let z = Tensor(zeros: [1, configuration.latentChannels, h, w])
            for i in 0..<z.count { z.data[i] = Float(i % 13) / 6 - 1 }
            let (median, best) = try BenchTiming.milliseconds(warmup: warmup, iterations: iterations) {
                _ = try decoder.decode(z, tile: tile, overlap: min(8, (tile ?? 32) / 4))
            }
            // Direct-convolution FLOPs (the usual count, and PyTorch's work), and the GEMM work
            // Winograd actually does; the floors divide them by the sgemm rate of this run.
            let flops = 2 * Double(configuration.decodeMACs(height: h, width: w))
            let winogradFlops = 2 * Double(configuration.decodeMACs(height: h, width: w, winograd: true))
            let top = configuration.blockOutChannels.count > 1 ? configuration.blockOutChannels[1] : configuration.blockOutChannels[0]
            let gemm = SGEMMProbe.peak(m: top, n: 4096, k: top)
            let achieved = flops / (median / 1000) / 1e9
            if json {
                let object: [String: Any] = [
                    "size": size, "threads": Parallel.threads, "blas_core": BLASRuntime.coreName,
                    "ms_median": median,
                    "ms_best": best, "gflop_per_decode": flops / 1e9, "gflops": achieved, "sgemm_gflops": gemm.gflops,
                    "sgemm_shape": [gemm.m, gemm.n, gemm.k], "share_of_sgemm": achieved / gemm.gflops,
                    "floor_ms": flops / gemm.gflops / 1e6, "winograd_gflop_per_decode": winogradFlops / 1e9,
                    "winograd_floor_ms": winogradFlops / gemm.gflops / 1e6, "tile": tile ?? 0,
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("fit bench decode: \(vae ?? "sd-vae-ft-ema shapes, synthetic weights"), \(size)\(tile.map { ", tiles of \($0)" } ?? ""), "
                      + "threads \(Parallel.threads), BLAS \(BLASRuntime.coreName)")
                print(String(format: "sgemm %d×%d×%d:  %.1f GFLOP/s (best of the same run)", gemm.m, gemm.n, gemm.k, gemm.gflops))
                print(String(format: "decode:           %.1f ms median, %.1f ms best of %d", median, best, iterations))
                print(String(format: "direct FLOPs:     %.1f GFLOP per decode = %.1f GFLOP/s effective; floor at the sgemm rate %.0f ms",
                             flops / 1e9, achieved, flops / gemm.gflops / 1e6))
                print(String(format: "Winograd GEMMs:   %.1f GFLOP per decode; floor at the sgemm rate %.0f ms (time spent: %.0f %% in that floor)",
                             winogradFlops / 1e9, winogradFlops / gemm.gflops / 1e6, 100 * winogradFlops / gemm.gflops / 1e6 / median))
            }
        }
    }
}

/// `fit bench generate`: seconds per sampling step with guidance, and the share of the time
/// spent outside the network's forward passes (sampler arithmetic, noise, copies).
struct GenerateBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "generate", abstract: "Time sampling steps.")

    @Option(help: "Model checkpoint (`embedded`: the model built into fit); without it, random weights in --preset shapes.")
    var model: String?

    @Option(help: "Official model shapes for random weights: \(ModelPreset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var preset: ModelPreset = .fitv2XL

    @Option(help: "Tokens per image (the most square grid).")
    var tokens = 256

    @Option(help: "Sampling steps.")
    var steps = 3

    @Option(help: "Sampler (default: euler for flow models, ddim for DDPM models).")
    var sampler: SamplerKind?

    @Option(help: "Guidance scale (> 1 runs the guided, doubled batch).")
    var cfg = 4.0

    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var precisionOptions: PrecisionOptions

    func run() throws {
        runtime.apply()
        try Console.reportingErrors {
            let fit: FiT, name: String
            if let model {
                let checkpoint = try ModelCheckpoint(path: try EmbeddedModel.resolve(model))
                fit = try checkpoint.makeModel(precision: try precisionOptions.resolved())
                name = URL(fileURLWithPath: model).lastPathComponent
            } else {
                fit = try FiT(configuration: preset.configuration, weights: RandomWeights(configuration: preset.configuration),
                              precision: try precisionOptions.resolved())
                name = preset.rawValue + " (random weights)"
            }
            let c = fit.configuration
            let rows = (1...tokens).last { tokens % $0 == 0 && $0 * $0 <= tokens } ?? 1
            let kind = sampler ?? (c.useSit ? .euler : .ddim)
            let parameters = SamplingParameters(classes: [0], height: rows * c.patchSize, width: tokens / rows * c.patchSize,
                                                steps: steps, sampler: kind, guidanceScale: cfg, seed: 0)
            let start = DispatchTime.now().uptimeNanoseconds
            var iterator = try DenoisingTrajectory(model: fit, parameters: parameters).makeIterator()
            var count = 0
            while try iterator.nextStep() != nil { count += 1 }
            let total = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            let outside = total - iterator.forwardSeconds
            print("fit bench generate: \(name), \(tokens) tokens (\(rows)×\(tokens / rows)), \(kind.rawValue), cfg \(cfg), "
                  + "threads \(Parallel.threads), precision \(fit.precision.rawValue), BLAS \(BLASRuntime.coreName)")
            print(String(format: "steps:            %d (%d model evaluations of batch %d)", count, iterator.evaluations, cfg > 1 ? 2 : 1))
            print(String(format: "time per step:    %.4f s (total %.3f s)", total / Double(count), total))
            print(String(format: "outside forward:  %.4f s = %.2f %% of the total", outside, 100 * outside / total))
        }
    }
}

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
