import Foundation

/// A model file opened for generation: the network bound to its weights, its metadata (class
/// names, recommended settings), its fingerprint, and the decoder that turns its samples into
/// pictures (the VAE for latent models). The first stage of the pipeline; see ``GenerationPlan``.
public struct LoadedModel: Sendable {
    /// How records and messages name the model (a path, or a front end's name for a built-in one).
    public let path: String
    public let checkpoint: ModelCheckpoint
    public let model: FiT
    public let metadata: ModelMetadata
    /// ``ModelFingerprint`` of the file: a PNG's record names the model it was made with.
    public let fingerprint: String
    /// Turns the model's samples into pictures (the VAE for latent models).
    public let decoder: ImageDecoder
    /// Things worth telling the user that are not errors (an option that does not apply).
    public let notes: [String]

    /// Opens the model in `file` (named `path` in records; the same unless a front end resolves
    /// names of its own). Latent models also open their VAE: `vaePath`, else the one the model
    /// file carries, else `$FIT_VAE`, else `vae.safetensors` beside the model. Class names come
    /// from the file, else from `fallbackClassNames(numClasses)` (for example ImageNet's).
    public init(file: String? = nil, path: String, configurationPath: String? = nil, vaePath: String? = nil,
                vaeTile: Int? = nil, precision: Precision = .fp32,
                environment: [String: String] = ProcessInfo.processInfo.environment,
                fallbackClassNames: (Int) throws -> [String]? = { _ in nil }) throws {
        self.path = path
        checkpoint = try ModelCheckpoint(path: file ?? path, configurationPath: configurationPath)
        model = try checkpoint.makeModel(precision: precision)
        var metadata = try ModelMetadata(file: checkpoint.file)
        if metadata.classNames == nil { metadata.classNames = try fallbackClassNames(model.configuration.numClasses) }
        self.metadata = metadata
        fingerprint = ModelFingerprint.of(checkpoint.file)
        var notes: [String] = []
        if ImageGeometry(model.configuration).isLatent {
            let vaeCheckpoint: VAECheckpoint
            if vaePath == nil, let carried = checkpoint.carriedVAE {
                vaeCheckpoint = carried
            } else {
                let beside = URL(fileURLWithPath: checkpoint.file.path).deletingLastPathComponent().appendingPathComponent("vae.safetensors").path
                guard let vae = vaePath ?? environment["FIT_VAE"].flatMap({ $0.isEmpty ? nil : $0 })
                        ?? (FileManager.default.fileExists(atPath: beside) ? beside : nil) else {
                    throw FiTError.missingVAE(model: path)
                }
                vaeCheckpoint = try VAECheckpoint(path: vae)
            }
            let vaeShape = vaeCheckpoint.configuration
            guard vaeShape.latentChannels == model.configuration.inChannels, vaeShape.outChannels == 3 else {
                throw FiTError.invalidInput("\(vaeCheckpoint.file.path) decodes \(vaeShape.latentChannels)-channel latents into \(vaeShape.outChannels) channels, "
                                            + "but \(path) makes \(model.configuration.inChannels)-channel latents and fit needs RGB")
            }
            // A VAE the model file carries was made for it (the embedded model's, milliseconds per
            // decode): steps are drawn with it too, not with the linear preview.
            decoder = LatentDecoder(vae: try vaeCheckpoint.makeDecoder(precision: precision), tile: vaeTile,
                                    decodingPreviews: vaeCheckpoint.source == .carried)
        } else {
            if let vaePath { notes.append("\(path) works on pixels; --vae \(vaePath) is not used") }
            decoder = PixelDecoder()
        }
        self.notes = notes
    }

    /// How pixel sizes map onto the model's grid.
    public var geometry: ImageGeometry { ImageGeometry(model.configuration, vaeFactor: decoder.pixelsPerCell) }

    /// The sampler, steps and guidance to use when nothing else says: the model's recommendation
    /// (a sampler that fits the model), else Euler 50 for flow models, DDIM 50 for DDPM models, guidance 4.
    public var defaultSampling: (sampler: SamplerKind, steps: Int, cfg: Double) {
        let recommended = metadata.recommended
        let fitting = SamplerKind.available(for: model.configuration)
        let sampler = recommended.sampler.flatMap { fitting.contains($0) ? $0 : nil }
            ?? (model.configuration.useSit ? .euler : .ddim)
        return (sampler, recommended.steps ?? 50, recommended.cfg ?? 4)
    }

    /// The size to make when nothing else says: the model's recommendation, else its training square.
    public var defaultSize: (width: Int, height: Int) {
        if let size = metadata.recommended.size, let parsed = try? ImageGeometry.parse(size) { return parsed }
        return (geometry.nativeSide, geometry.nativeSide)
    }

    /// The display name of class `id`.
    public func className(_ id: Int) -> String? {
        guard let names = metadata.classNames, id >= 0, id < names.count else { return nil }
        return names[id]
    }

    /// The record a PNG made with this model carries (read back by `fit generate --from`).
    public func record(classID: Int, width: Int, height: Int, steps: Int, sampler: SamplerKind, cfg: Double,
                       scalePow: Double = 0, guidedChannels: Int? = nil, seed: UInt64, rope: RoPEScaling?,
                       software: String = FiTVersion.software) -> GenerationRecord {
        GenerationRecord(software: software, modelPath: path, modelHash: fingerprint,
                         classID: classID, className: className(classID), width: width, height: height, steps: steps,
                         sampler: sampler, cfg: cfg, scalePow: scalePow, guidedChannels: guidedChannels, seed: seed, rope: rope,
                         precision: model.precision)
    }
}
