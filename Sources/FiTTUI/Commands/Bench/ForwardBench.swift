import ArgumentParser
import FiTKit
import Foundation

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

    @OptionGroup var repetitions: BenchRepetitions

    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var precisionOptions: PrecisionOptions

    func validate() throws {
        guard (1...65_536).contains(tokens), (1...64).contains(batch) else {
            throw ValidationError("--tokens must be in 1…65536 and --batch in 1…64")
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
            let (median, best) = try BenchTiming.milliseconds(warmup: repetitions.warmup, iterations: repetitions.iterations) {
                _ = try model.forward(x, t: t, y: y)
            }
            let flops = 2 * Double(configuration.forwardMACs(batch: batch, tokens: tokens))
            let gemm = SGEMMProbe.peak(m: batch * tokens, n: configuration.ffnHidden, k: configuration.hiddenSize, precision: precision)
            let library = precision == .bf16 ? "oneDNN \(OneDNN.version) bf16 (\(OneDNN.isaName))" : "OpenBLAS sgemm (\(BLASRuntime.coreName))"
            let achieved = flops / (median / 1000) / 1e9
            try BenchReport(fields: [
                "model": config ?? preset.rawValue, "tokens": tokens, "grid": [rows, columns], "batch": batch,
                "threads": Parallel.threads, "blas_core": BLASRuntime.coreName, "precision": precision.rawValue,
                "gemm_library": library, "iterations": repetitions.iterations, "ms_median": median, "ms_best": best,
                "gflop_per_forward": flops / 1e9, "gflops": achieved, "sgemm_gflops": gemm.gflops,
                "sgemm_shape": [gemm.m, gemm.n, gemm.k], "share_of_sgemm": achieved / gemm.gflops,
            ], lines: [
                "fit bench forward: \(config ?? preset.rawValue), \(tokens) tokens (\(rows)×\(columns)), batch \(batch), "
                    + "threads \(Parallel.threads), precision \(precision.rawValue), GEMM: \(library), elementwise: \(Kernels.instructionSet)",
                String(format: "GEMM %d×%d×%d:   %.1f GFLOP/s (best of the same run)", gemm.m, gemm.n, gemm.k, gemm.gflops),
                String(format: "forward:          %.1f ms median, %.1f ms best of %d; %.1f GFLOP per forward",
                       median, best, repetitions.iterations, flops / 1e9),
                String(format: "achieved:         %.1f GFLOP/s = %.1f %% of the GEMM rate", achieved, 100 * achieved / gemm.gflops),
            ]).print(json: repetitions.json)
        }
    }
}
