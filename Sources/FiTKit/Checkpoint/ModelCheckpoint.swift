import Foundation

/// A FiT checkpoint file together with the configuration it was resolved to.
///
/// The configuration comes from, in order: an explicit `--config` file; the safetensors
/// metadata key `fit_config` (a JSON string); `<checkpoint>.json` (or `<stem>.json`) beside the
/// file; the official preset its tensors match.
///
/// `@unchecked Sendable`: every stored property is immutable after `init`, and the mapped file is only read.
public struct ModelCheckpoint: @unchecked Sendable {
    /// Where the configuration was found.
    public enum ConfigurationSource: Sendable, Equatable, CustomStringConvertible {
        case file(String), metadata, sidecar(String), preset(ModelPreset)
        public var description: String {
            switch self {
            case .file(let p): return "--config \(p)"
            case .metadata: return "safetensors metadata 'fit_config'"
            case .sidecar(let p): return p
            case .preset(let p): return "official preset \(p.rawValue) (recognised by tensor shapes)"
            }
        }
    }

    public let file: SafetensorsFile
    public let configuration: FiTConfiguration
    public let source: ConfigurationSource
    /// The VAE the file carries for its latents (`vae.*` tensors and `vae_config` metadata), if any.
    public let carriedVAE: VAECheckpoint?

    /// Opens `path`, resolves its configuration (see the type's discussion) and validates it.
    public init(path: String, configurationPath: String? = nil) throws {
        file = try SafetensorsFile(path: path)
        if let configurationPath {
            configuration = try Self.configuration(at: configurationPath)
            source = .file(configurationPath)
        } else if let json = file.metadata["fit_config"] {
            configuration = try Self.decodeConfiguration(Data(json.utf8), origin: "metadata 'fit_config' of \(path)")
            source = .metadata
        } else if let sidecar = Self.sidecarPath(for: path) {
            configuration = try Self.configuration(at: sidecar)
            source = .sidecar(sidecar)
        } else if let preset = ModelPreset.detect(shapes: file.entries.mapValues(\.shape), path: path) {
            configuration = preset.configuration
            source = .preset(preset)
        } else {
            throw FiTError.missingConfiguration(path: path)
        }
        try configuration.validate()
        carriedVAE = try VAECheckpoint(carriedBy: file)
    }

    /// Binds the weights into a model (without the tensors of a carried VAE) computing in `precision`.
    /// (In bf16 each packed weight's file pages leave the resident set as soon as it is packed.)
    public func makeModel(precision: Precision = .fp32) throws -> FiT {
        try FiT(configuration: configuration,
                weights: carriedVAE == nil ? file : WeightSubset(file, outside: VAECheckpoint.carriedPrefix),
                precision: precision)
    }

    static func sidecarPath(for path: String) -> String? {
        let url = URL(fileURLWithPath: path)
        let candidates = [path + ".json", url.deletingPathExtension().path + ".json"]
        return candidates.first { FileManager.default.fileExists(atPath: $0) }
    }

    /// Decodes a configuration JSON file (a params object, or nested under `network_config.params`).
    public static func configuration(at path: String) throws -> FiTConfiguration {
        try decodeConfiguration(try RegularFile.read(path, limit: 1 << 20), origin: path)
    }

    /// Decodes a params object, also when nested as `{"network_config": {"params": …}}` or `{"params": …}`.
    static func decodeConfiguration(_ data: Data, origin: String) throws -> FiTConfiguration {
        var payload = data
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            let nested = (object["network_config"] as? [String: Any])?["params"] ?? object["params"]
            if let nested, let d = try? JSONSerialization.data(withJSONObject: nested) { payload = d }
        } else {
            throw FiTError.invalidConfiguration("\(origin) is not a JSON object")
        }
        do {
            return try JSONDecoder().decode(FiTConfiguration.self, from: payload)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw FiTError.invalidConfiguration("\(origin): '\(key)' has the wrong type (\(context.debugDescription))")
        } catch {
            throw FiTError.invalidConfiguration("\(origin): \(error)")
        }
    }
}
