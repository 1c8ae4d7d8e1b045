import ArgumentParser
import FiTKit

/// What to generate: the options `fit generate` and `fit render` share.
struct SamplingOptions: ParsableArguments {
    @Option(name: [.customLong("class")], help: "Class id or name.")
    var classLabel: String?

    @Option(help: "Image size in pixels, WxH (default: the model's training size).")
    var size: String?

    @Option(parsing: .unconditional, help: "Sampling steps, 1…10000 (default: the model's recommendation).")
    var steps: Int?

    @Option(help: "Sampler: \(SamplerKind.allCases.map(\.rawValue).joined(separator: ", ")) (default: the model's recommendation).")
    var sampler: SamplerKind?

    @Option(parsing: .unconditional, help: "Classifier-free guidance scale (1 = none).")
    var cfg: Double?

    @Option(parsing: .unconditional, help: "Power of the cosine guidance schedule (0 = constant).")
    var scalePow: Double?

    @Option(parsing: .unconditional, help: "Output channels guidance applies to (default: the official 3, i.e. all of an RGB model).")
    var guidedChannels: Int?

    @Option(parsing: .unconditional, help: "Seed (default: random; recorded in the PNG).")
    var seed: UInt64?

    @OptionGroup var rope: RoPEOptions

    func validate() throws {
        let maximumSteps = SamplingParameters.maximumSteps, maximumCFG = SamplingParameters.maximumGuidanceScale
        if let steps, !(1...maximumSteps).contains(steps) { throw ValidationError("--steps must be in 1…\(maximumSteps), got \(steps)") }
        if let cfg, !(0...maximumCFG).contains(cfg) { throw ValidationError("--cfg must be in 0…\(Int(maximumCFG)), got \(cfg)") }
        if let scalePow, !(0...100).contains(scalePow) { throw ValidationError("--scale-pow must be in 0…100, got \(scalePow)") }
        if let guidedChannels, guidedChannels < 0 { throw ValidationError("--guided-channels must be ≥ 0") }
    }

    /// What was asked for, as the pipeline takes it.
    func request() throws -> GenerationRequest {
        var request = GenerationRequest(classLabel: classLabel, steps: steps, sampler: sampler, cfg: cfg, scalePow: scalePow,
                                        guidedChannels: guidedChannels, seed: seed, rope: RoPEChoice(rope.scaling))
        if let size { try request.setSize(size) }
        return request
    }
}
