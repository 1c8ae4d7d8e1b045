import ArgumentParser
import FiTKit
import Foundation

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

    @OptionGroup var repetitions: BenchRepetitions

    @OptionGroup var runtime: RuntimeOptions

    @OptionGroup var precisionOptions: PrecisionOptions

    func validate() throws {
        if let tile, tile < 1 { throw ValidationError("--tile must be at least 1, got \(tile)") }
    }

    func run() throws {
        runtime.apply()
        try Console.reportingErrors {
            let precision = try precisionOptions.resolved()
            let decoder = try vae.map { try VAECheckpoint(path: $0).makeDecoder(precision: precision) }
                ?? VAEDecoder(configuration: .sdVAEFtEMA, weights: SyntheticWeights(shapes: VAEConfiguration.sdVAEFtEMA.tensorShapes()),
                              precision: precision)
            let configuration = decoder.configuration
            let f = configuration.downsamplingFactor
            let parts = size.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, parts.allSatisfy({ $0 > 0 && $0 % f == 0 }) else {
                throw FiTError.invalidInput("--size \(size): give WIDTHxHEIGHT in pixels, both multiples of \(f)")
            }
            let (w, h) = (parts[0] / f, parts[1] / f)
            let z = Tensor(zeros: [1, configuration.latentChannels, h, w])
            for i in 0..<z.count { z.data[i] = Float(i % 13) / 6 - 1 }
            let (median, best) = try BenchTiming.milliseconds(warmup: repetitions.warmup, iterations: repetitions.iterations) {
                _ = try decoder.decode(z, tile: tile, overlap: min(8, (tile ?? 32) / 4))
            }
            // Direct-convolution FLOPs (the usual count, and PyTorch's work), and the GEMM work
            // Winograd actually does; the floors divide them by the sgemm rate of this run.
            let flops = 2 * Double(configuration.decodeMACs(height: h, width: w))
            let winogradFlops = 2 * Double(configuration.decodeMACs(height: h, width: w, winograd: true))
            let top = configuration.blockOutChannels.count > 1 ? configuration.blockOutChannels[1] : configuration.blockOutChannels[0]
            let gemm = SGEMMProbe.peak(m: top, n: 4096, k: top)
            let achieved = flops / (median / 1000) / 1e9
            try BenchReport(fields: [
                "size": size, "threads": Parallel.threads, "blas_core": BLASRuntime.coreName, "precision": precision.rawValue,
                "iterations": repetitions.iterations, "ms_median": median,
                "ms_best": best, "gflop_per_decode": flops / 1e9, "gflops": achieved, "sgemm_gflops": gemm.gflops,
                "sgemm_shape": [gemm.m, gemm.n, gemm.k], "share_of_sgemm": achieved / gemm.gflops,
                "floor_ms": flops / gemm.gflops / 1e6, "winograd_gflop_per_decode": winogradFlops / 1e9,
                "winograd_floor_ms": winogradFlops / gemm.gflops / 1e6, "tile": tile ?? 0,
            ], lines: [
                "fit bench decode: \(vae ?? "sd-vae-ft-ema shapes, synthetic weights"), \(size)\(tile.map { ", tiles of \($0)" } ?? ""), "
                    + "threads \(Parallel.threads), BLAS \(BLASRuntime.coreName), precision \(precision.rawValue), elementwise: \(Kernels.instructionSet)",
                String(format: "sgemm %d×%d×%d:  %.1f GFLOP/s (best of the same run)", gemm.m, gemm.n, gemm.k, gemm.gflops),
                String(format: "decode:           %.1f ms median, %.1f ms best of %d", median, best, repetitions.iterations),
                String(format: "direct FLOPs:     %.1f GFLOP per decode = %.1f GFLOP/s effective; floor at the sgemm rate %.0f ms",
                       flops / 1e9, achieved, flops / gemm.gflops / 1e6),
                String(format: "Winograd GEMMs:   %.1f GFLOP per decode; floor at the sgemm rate %.0f ms (time spent: %.0f %% in that floor)",
                       winogradFlops / 1e9, winogradFlops / gemm.gflops / 1e6, 100 * winogradFlops / gemm.gflops / 1e6 / median),
            ]).print(json: repetitions.json)
        }
    }
}
