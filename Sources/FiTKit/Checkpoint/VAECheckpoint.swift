import Foundation

/// A VAE file (safetensors, diffusers key names) together with its decoder configuration, or
/// the VAE a FiT checkpoint carries: its tensors under `vae.` and its configuration in the
/// `vae_config` metadata (the embedded emoji model does this, so one file is the whole model).
///
/// The configuration of a VAE file comes from, in order: the safetensors metadata key
/// `vae_config` (the diffusers `config.json` as a string); a `config.json` beside the file;
/// sd-vae-ft-ema's.
///
/// `@unchecked Sendable`: every stored property is immutable after `init`, and the mapped file
/// is only read.
public struct VAECheckpoint: @unchecked Sendable {
    /// Where the configuration was found.
    public enum ConfigurationSource: Sendable, Equatable, CustomStringConvertible {
        /// The `vae_config` metadata; a `config.json` beside the file; the sd-vae-ft-ema default;
        /// carried inside a FiT checkpoint.
        case metadata, sidecar(String), sdVAEFtEMA, carried
        public var description: String {
            switch self {
            case .metadata: return "safetensors metadata 'vae_config'"
            case .sidecar(let p): return p
            case .sdVAEFtEMA: return "sd-vae-ft-ema's (no vae_config metadata, no config.json beside the file)"
            case .carried: return "the model file (vae.* tensors, 'vae_config' metadata)"
            }
        }
    }

    /// Where a FiT checkpoint keeps the tensors of the VAE it carries.
    public static let carriedPrefix = "vae."

    /// The memory-mapped file.
    public let file: SafetensorsFile
    /// The VAE's tensors by diffusers name: the whole file, or the `vae.` part of a FiT checkpoint.
    public let weights: WeightSource
    /// The decoder's shape.
    public let configuration: VAEConfiguration
    /// Where ``configuration`` came from.
    public let source: ConfigurationSource

    /// Opens `path` and resolves its configuration (see the type's discussion).
    public init(path: String) throws {
        file = try SafetensorsFile(path: path)
        weights = file
        let sidecar = URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent("config.json").path
        if let json = file.metadata["vae_config"] {
            configuration = try VAEConfiguration.decode(Data(json.utf8), origin: "metadata 'vae_config' of \(path)")
            source = .metadata
        } else if let data = FileManager.default.contents(atPath: sidecar) {
            configuration = try VAEConfiguration.decode(data, origin: sidecar)
            source = .sidecar(sidecar)
        } else {
            configuration = .sdVAEFtEMA
            source = .sdVAEFtEMA
        }
    }

    /// The VAE `file` (a FiT checkpoint) carries, or nil when it has no `vae.` tensors.
    public init?(carriedBy file: SafetensorsFile) throws {
        guard file.entries.keys.contains(where: { $0.hasPrefix(Self.carriedPrefix) }) else { return nil }
        guard let json = file.metadata["vae_config"] else {
            throw FiTError.invalidConfiguration("\(file.path) carries vae.* tensors but no 'vae_config' metadata to say their shape")
        }
        self.file = file
        weights = WeightSubset(file, under: Self.carriedPrefix)
        configuration = try VAEConfiguration.decode(Data(json.utf8), origin: "metadata 'vae_config' of \(file.path)")
        source = .carried
    }

    /// Binds the weights into a decoder that runs in `precision`; errors name the file. The 3×3
    /// kernels (nearly all of a VAE file) now live in the decoder's own form (Winograd or
    /// oneDNN's layout), so the mapped pages are let go.
    public func makeDecoder(precision: Precision = .fp32) throws -> VAEDecoder {
        do {
            let decoder = try VAEDecoder(configuration: configuration, weights: weights, precision: precision)
            file.releaseResidentPages()
            return decoder
        } catch let error as FiTError {
            throw FiTError.invalidInput("\(file.path) is not a VAE decoder for configuration from \(source): \(error)")
        }
    }
}
