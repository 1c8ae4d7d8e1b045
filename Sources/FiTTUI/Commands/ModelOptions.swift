import ArgumentParser
import FiTKit
import Foundation

/// Which model to load.
struct ModelOptions: ParsableArguments {
    @Option(help: "Model checkpoint (.safetensors).")
    var model: String?

    @Option(help: "Model configuration JSON to use instead of the checkpoint's.")
    var config: String?

    /// Loads `--model`, else the model an image was made with (checking it is the same file).
    func load(orRecorded record: GenerationRecord? = nil) throws -> LoadedModel {
        guard let path = model ?? record?.modelPath else {
            throw FiTError.invalidInput("no model: pass --model PATH (a FiT .safetensors checkpoint)")
        }
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

    init(path: String, configurationPath: String?) throws {
        self.path = path
        checkpoint = try ModelCheckpoint(path: path, configurationPath: configurationPath)
        model = try checkpoint.makeModel()
        metadata = try ModelMetadata(file: checkpoint.file)
        fingerprint = ModelFingerprint.of(checkpoint.file)
    }

    var geometry: ImageGeometry { ImageGeometry(model.configuration) }

    /// The display name of class `id`.
    func className(_ id: Int) -> String? {
        guard let names = metadata.classNames, id < names.count else { return nil }
        return names[id]
    }
}
