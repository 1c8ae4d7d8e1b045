import ArgumentParser
import FiTKit
import Foundation

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

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var precisionOptions: PrecisionOptions

    func validate() throws {
        guard (1...65_536).contains(tokens) else { throw ValidationError("--tokens must be in 1…65536, got \(tokens)") }
        guard (1...SamplingParameters.maximumSteps).contains(steps) else {
            throw ValidationError("--steps must be in 1…\(SamplingParameters.maximumSteps), got \(steps)")
        }
        guard cfg.isFinite, cfg >= 0, cfg <= SamplingParameters.maximumGuidanceScale else {
            throw ValidationError("--cfg must be in 0…\(SamplingParameters.maximumGuidanceScale), got \(cfg)")
        }
    }

    func run() throws {
        runtime.apply()
        try Console.reportingErrors {
            let fit: FiT, name: String
            if let model {
                fit = try LoadedModel(file: try EmbeddedModel.resolve(model), path: model,
                                      precision: try precisionOptions.resolved()).model
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
            try BenchReport(fields: [
                "model": name, "tokens": tokens, "grid": [rows, tokens / rows], "sampler": kind.rawValue, "cfg": cfg,
                "threads": Parallel.threads, "precision": fit.precision.rawValue, "steps": count,
                "evaluations": iterator.evaluations, "s_per_step": total / Double(count), "s_total": total,
                "share_outside_forward": outside / total,
            ], lines: [
                "fit bench generate: \(name), \(tokens) tokens (\(rows)×\(tokens / rows)), \(kind.rawValue), cfg \(cfg), "
                    + "threads \(Parallel.threads), precision \(fit.precision.rawValue), BLAS \(BLASRuntime.coreName), elementwise: \(Kernels.instructionSet)",
                String(format: "steps:            %d (%d model evaluations of batch %d)", count, iterator.evaluations, cfg > 1 ? 2 : 1),
                String(format: "time per step:    %.4f s (total %.3f s)", total / Double(count), total),
                String(format: "outside forward:  %.4f s = %.2f %% of the total", outside, 100 * outside / total),
            ]).print(json: json)
        }
    }
}
