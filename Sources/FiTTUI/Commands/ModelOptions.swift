import ArgumentParser
import FiTKit
import Foundation

/// Which model to load.
struct ModelOptions: ParsableArguments {
    @Option(help: "Model checkpoint (.safetensors); default: the emoji model built into fit.")
    var model: String?

    @Option(help: "Model configuration JSON to use instead of the checkpoint's.")
    var config: String?

    /// Loads `--model`, else the model an image was made with (checking it is the same file),
    /// else the embedded model.
    func load(orRecorded record: GenerationRecord? = nil) throws -> LoadedModel {
        let path = model ?? record?.modelPath ?? EmbeddedModel.name
        let loaded = try LoadedModel(path: path, configurationPath: config)
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

    /// Opens `path`; ``EmbeddedModel/name`` means the model built into fit.
    init(path: String, configurationPath: String?) throws {
        self.path = path
        checkpoint = try ModelCheckpoint(path: try EmbeddedModel.resolve(path), configurationPath: configurationPath)
        model = try checkpoint.makeModel()
        metadata = try ModelMetadata(file: checkpoint.file)
        fingerprint = ModelFingerprint.of(checkpoint.file)
    }

    var geometry: ImageGeometry { ImageGeometry(model.configuration) }

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
}

/// The emoji model that ships inside `fit` (trained by `python/train.py`, exported by
/// `python/export_model.py`), so the explorer makes real pictures with nothing downloaded.
enum EmbeddedModel {
    /// How generation records and messages name it (`--model embedded` works too).
    static let name = "embedded"

    /// The file behind `path`: the bundled resource for ``name``, else `path` itself.
    static func resolve(_ path: String) throws -> String {
        guard path == name else { return path }
        guard let url = Bundle.module.url(forResource: "fit-emoji", withExtension: "safetensors") else {
            throw FiTError.invalidInput("the embedded model is missing from this build (Sources/FiTTUI/Resources/fit-emoji.safetensors); "
                                        + "run `make export-model` or pass --model PATH")
        }
        return url.path
    }
}
