import Foundation

/// One generation's settings resolved against a model, validated, ready to run: what the user
/// asked for (``GenerationRequest``) first, then the record of the image being replayed, then the
/// model's recommendations, then the defaults of its family.
public struct GenerationPlan: Sendable {
    public let model: LoadedModel
    public let classID: Int
    /// Image size in pixels.
    public let width: Int
    public let height: Int
    /// The model's grid for that size (latent cells for latent models).
    public let grid: (height: Int, width: Int)
    public let steps: Int
    public let sampler: SamplerKind
    public let cfg: Double
    public let scalePow: Double
    public let guidedChannels: Int?
    /// The seed of the first image (a random one when neither the request nor a record gives one).
    public let seed: UInt64
    /// `nil`: the model's own configuration.
    public let rope: RoPEScaling?

    /// Resolves `request` against `model` (and `record`, when replaying an image); throws when a
    /// setting is invalid for the model (a size it cannot make, an unknown class, …).
    public init(model: LoadedModel, request: GenerationRequest, record: GenerationRecord? = nil) throws {
        self.model = model
        let config = model.model.configuration
        let recommended = model.metadata.recommended
        if let label = request.classLabel {
            classID = try model.metadata.classID(for: label, numClasses: config.numClasses)
        } else if let record {
            classID = record.classID
        } else {
            throw FiTError.invalidInput("no class given: name one (for example --class \(model.className(0) ?? "0"))")
        }
        let fallback = record.map { (width: $0.width, height: $0.height) } ?? model.defaultSize
        width = request.width ?? fallback.width
        height = request.height ?? fallback.height
        grid = try model.geometry.grid(width: width, height: height)
        let defaults = model.defaultSampling
        sampler = request.sampler ?? record?.sampler ?? defaults.sampler
        steps = request.steps ?? record?.steps ?? defaults.steps
        cfg = request.cfg ?? record?.cfg ?? defaults.cfg
        scalePow = request.scalePow ?? record?.scalePow ?? recommended.scalePow ?? 0
        guidedChannels = request.guidedChannels ?? record?.guidedChannels
        seed = request.seed ?? record?.seed ?? UInt64(UInt32.random(in: 0...UInt32.max))
        switch request.rope {
        case .explicit(let scaling): rope = scaling
        case .modelDefault: rope = nil
        case .automatic:
            if let record { rope = record.rope } else { rope = recommended.rope(height: grid.height, width: grid.width) }
        }
        try parameters(seed: seed).validate(for: config)
    }

    /// The sampler's parameters for the image with `seed`.
    public func parameters(seed: UInt64) -> SamplingParameters {
        SamplingParameters(classes: [classID], height: grid.height, width: grid.width, steps: steps, sampler: sampler,
                           guidanceScale: cfg, scalePower: scalePow, guidedChannels: guidedChannels, seed: seed, rope: rope)
    }

    /// The steps of the image with `seed`: iterate it (stopping the loop stops the work).
    public func trajectory(seed: UInt64) throws -> DenoisingTrajectory {
        try DenoisingTrajectory(model: model.model, parameters: parameters(seed: seed))
    }

    /// The record a PNG of the image with `seed` carries (read back by `fit generate --from`).
    public func record(seed: UInt64) -> GenerationRecord {
        model.record(classID: classID, width: width, height: height, steps: steps, sampler: sampler, cfg: cfg,
                     scalePow: scalePow, guidedChannels: guidedChannels, seed: seed, rope: rope)
    }

    /// Makes the image with `seed` (default: the plan's), calling `onStep` after every step
    /// (throwing from it cancels the run) and `onDecoding` before the final decode.
    public func run(seed: UInt64? = nil, onStep: (TrajectoryStep) throws -> Void = { _ in },
                    onDecoding: () -> Void = {}) throws -> GeneratedImage {
        let seed = seed ?? self.seed
        var iterator = try trajectory(seed: seed).makeIterator()
        var last: TrajectoryStep?
        while let step = try iterator.nextStep() {
            try onStep(step)
            last = step
        }
        guard let last else { throw FiTError.invalidInput("the sampler made no steps") }
        onDecoding()
        return GeneratedImage(image: try model.decoder.decode(last.next, index: 0), record: record(seed: seed),
                              evaluations: iterator.evaluations)
    }
}

/// A finished image and the record that makes it again.
public struct GeneratedImage: Sendable {
    public let image: RGBImage
    public let record: GenerationRecord
    /// Network evaluations it took (two per guided step for the batched guidance).
    public let evaluations: Int

    /// Writes the image as PNG with its record in the `parameters` text chunk, enlarged `scale`
    /// times (nearest neighbour). The file is replaced atomically.
    public func write(to path: String, scale: Int = 1) throws {
        try PNGFile.write(image.upscaled(by: scale), text: try record.pngText(), to: path)
    }
}
