import ArgumentParser
import FiTKit

/// What to generate: the options `fit generate` and `fit render` share.
struct SamplingOptions: ParsableArguments {
    @Option(name: [.customLong("class")], help: "Class id or name.")
    var classLabel: String?

    @Option(help: "Image size in pixels, WxH (default: the model's training size).")
    var size: String?

    @Option(help: "Sampling steps (default: the model's recommendation).")
    var steps: Int?

    @Option(help: "Sampler: \(SamplerKind.allCases.map(\.rawValue).joined(separator: ", ")) (default: the model's recommendation).")
    var sampler: SamplerKind?

    @Option(help: "Classifier-free guidance scale (1 = none).")
    var cfg: Double?

    @Option(help: "Power of the cosine guidance schedule (0 = constant).")
    var scalePow: Double?

    @Option(help: "Output channels guidance applies to (default: the official 3, i.e. all of an RGB model).")
    var guidedChannels: Int?

    @Option(help: "Seed (default: random; recorded in the PNG).")
    var seed: UInt64?

    @OptionGroup var rope: RoPEOptions

    func validate() throws {
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1, got \(steps)") }
        if let cfg, cfg < 0 || !cfg.isFinite { throw ValidationError("--cfg must be ≥ 0, got \(cfg)") }
        if let guidedChannels, guidedChannels < 0 { throw ValidationError("--guided-channels must be ≥ 0") }
    }
}
