import Foundation

/// A VAE file (safetensors, diffusers key names) together with its decoder configuration.
///
/// The configuration comes from, in order: the safetensors metadata key `vae_config` (the
/// diffusers `config.json` as a string); a `config.json` beside the file; sd-vae-ft-ema's.
public struct VAECheckpoint: @unchecked Sendable {
    /// Where the configuration was found.
    public enum ConfigurationSource: Sendable, Equatable, CustomStringConvertible {
        /// The `vae_config` metadata; a `config.json` beside the file; the sd-vae-ft-ema default.
        case metadata, sidecar(String), sdVAEFtEMA
        public var description: String {
            switch self {
            case .metadata: return "safetensors metadata 'vae_config'"
            case .sidecar(let p): return p
            case .sdVAEFtEMA: return "sd-vae-ft-ema's (no vae_config metadata, no config.json beside the file)"
            }
        }
    }

    /// The memory-mapped file.
    public let file: SafetensorsFile
    /// The decoder's shape.
    public let configuration: VAEConfiguration
    /// Where ``configuration`` came from.
    public let source: ConfigurationSource

    /// Opens `path` and resolves its configuration (see the type's discussion).
    public init(path: String) throws {
        file = try SafetensorsFile(path: path)
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

    /// Binds the weights into a decoder; errors name the file. The 3×3 kernels (nearly all of
    /// the file) now live in the decoder's Winograd form, so the mapped pages are let go.
    public func makeDecoder() throws -> VAEDecoder {
        do {
            let decoder = try VAEDecoder(configuration: configuration, weights: file)
            file.releaseResidentPages()
            return decoder
        } catch let error as FiTError {
            throw FiTError.invalidInput("\(file.path) is not a VAE decoder for configuration from \(source): \(error)")
        }
    }
}
