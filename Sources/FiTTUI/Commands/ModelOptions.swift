import ArgumentParser
import FiTKit
import Foundation

/// Which model to load.
struct ModelOptions: ParsableArguments {
    @Option(help: "Model checkpoint (.safetensors); default: the emoji model built into fit.")
    var model: String?

    @Option(help: "Model configuration JSON to use instead of the checkpoint's.")
    var config: String?

    @Option(help: "SD-VAE decoder for latent models (.safetensors); default: the VAE the model file carries, else $FIT_VAE, else vae.safetensors beside the model.")
    var vae: String?

    @Option(help: "Decode with the VAE in tiles of at most N×N latent pixels (bounds memory for large images).")
    var vaeTile: Int?

    @OptionGroup var precisionOptions: PrecisionOptions

    func validate() throws {
        if let vaeTile, vaeTile < 1 { throw ValidationError("--vae-tile must be at least 1, got \(vaeTile)") }
    }

    /// Loads `--model`, else the model an image was made with (checking it is the same file),
    /// else the embedded model, in `--precision`, else the image's (fp32 for images older than
    /// the setting), else `auto`.
    func load(orRecorded record: GenerationRecord? = nil) throws -> LoadedModel {
        let path = model ?? record?.modelPath ?? EmbeddedModel.name
        let precision = try precisionOptions.resolved(recorded: record.map { $0.precision ?? .fp32 })
        let loaded = try LoadedModel(path: path, configurationPath: config, vaePath: vae, vaeTile: vaeTile, precision: precision)
        if let record, record.modelHash != loaded.fingerprint {
            throw FiTError.invalidInput("\(path) is not the model the image was made with (\(record.model), hash \(record.modelHash)); "
                                        + "pass that checkpoint with --model")
        }
        return loaded
    }
}

/// A checkpoint with its model bound and its metadata read.
struct LoadedModel {
    let path: String
    let checkpoint: ModelCheckpoint
    let model: FiT
    let metadata: ModelMetadata
    let fingerprint: String
    /// Turns the model's samples into pictures (the VAE for latent models).
    let decoder: ImageDecoder

    /// Opens `path`; ``EmbeddedModel/name`` means the model built into fit. Latent models also
    /// open their VAE: `vaePath`, else the one the model file carries (the embedded model's),
    /// else `$FIT_VAE`, else `vae.safetensors` beside the model.
    init(path: String, configurationPath: String?, vaePath: String? = nil, vaeTile: Int? = nil,
         precision: Precision = .fp32) throws {
        self.path = path
        checkpoint = try ModelCheckpoint(path: try EmbeddedModel.resolve(path), configurationPath: configurationPath)
        model = try checkpoint.makeModel(precision: precision)
        var metadata = try ModelMetadata(file: checkpoint.file)
        if metadata.classNames == nil && model.configuration.numClasses == ImageNetClasses.count {
            metadata.classNames = try ImageNetClasses.names()
        }
        self.metadata = metadata
        fingerprint = ModelFingerprint.of(checkpoint.file)
        if ImageGeometry(model.configuration).isLatent {
            let vaeCheckpoint: VAECheckpoint
            if vaePath == nil, let carried = checkpoint.carriedVAE {
                vaeCheckpoint = carried
            } else {
                let beside = URL(fileURLWithPath: checkpoint.file.path).deletingLastPathComponent().appendingPathComponent("vae.safetensors").path
                guard let vae = vaePath ?? ProcessInfo.processInfo.environment["FIT_VAE"].flatMap({ $0.isEmpty ? nil : $0 })
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
            if let vaePath { Console.note("note: \(path) works on pixels; --vae \(vaePath) is not used") }
            decoder = PixelDecoder()
        }
    }

    var geometry: ImageGeometry { ImageGeometry(model.configuration, vaeFactor: decoder.pixelsPerCell) }

    /// The sampler, steps and guidance to use when nothing else says: the model's recommendation
    /// (a sampler that fits the model), else Euler 50 for flow models, DDIM 50 for DDPM models, guidance 4.
    var defaultSampling: (sampler: SamplerKind, steps: Int, cfg: Double) {
        let recommended = metadata.recommended
        let fitting = SamplerKind.available(for: model.configuration)
        let sampler = recommended.sampler.flatMap { fitting.contains($0) ? $0 : nil }
            ?? (model.configuration.useSit ? .euler : .ddim)
        return (sampler, recommended.steps ?? 50, recommended.cfg ?? 4)
    }

    /// The display name of class `id`.
    func className(_ id: Int) -> String? {
        guard let names = metadata.classNames, id < names.count else { return nil }
        return names[id]
    }

    /// The record a PNG made with this model carries (read back by `--from`).
    func record(classID: Int, width: Int, height: Int, steps: Int, sampler: SamplerKind, cfg: Double,
                scalePow: Double = 0, guidedChannels: Int? = nil, seed: UInt64, rope: RoPEScaling?) -> GenerationRecord {
        GenerationRecord(software: "fit \(FitCommand.configuration.version)", modelPath: path, modelHash: fingerprint,
                         classID: classID, className: className(classID), width: width, height: height, steps: steps,
                         sampler: sampler, cfg: cfg, scalePow: scalePow, guidedChannels: guidedChannels, seed: seed, rope: rope,
                         precision: model.precision)
    }
}

/// The emoji model that ships inside `fit` (trained by `python/train.py`, exported by
/// `python/export_model.py`), so the explorer makes real pictures with nothing downloaded.
enum EmbeddedModel {
    /// How generation records and messages name it (`--model embedded` works too).
    static let name = "embedded"

    /// The file behind `path`: the bundled resource for ``name``, else `path` itself.
    static func resolve(_ path: String) throws -> String {
        guard path == name else { return path }
        guard let file = BundledResource.path("fit-emoji.safetensors") else {
            throw FiTError.invalidInput("the embedded model is not beside this fit (\(BundledResource.expectedPath("fit-emoji.safetensors")) "
                                        + "is missing): install with `make install`, which copies \(BundledResource.bundleName) next to "
                                        + "the binary, or pass --model PATH")
        }
        return file
    }
}
