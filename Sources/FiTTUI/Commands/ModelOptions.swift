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
        let loaded = try LoadedModel(file: try EmbeddedModel.resolve(path), path: path, configurationPath: config, vaePath: vae,
                                     vaeTile: vaeTile, precision: precision,
                                     fallbackClassNames: { $0 == ImageNetClasses.count ? try ImageNetClasses.names() : nil })
        for note in loaded.notes { Console.note("note: " + note) }
        if let record, record.modelHash != loaded.fingerprint {
            throw FiTError.invalidInput("\(path) is not the model the image was made with (\(record.model), hash \(record.modelHash)); "
                                        + "pass that checkpoint with --model")
        }
        return loaded
    }
}
