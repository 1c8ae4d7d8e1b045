import ArgumentParser
import FiTKit

/// `fit decode`: the VAE decoder on latents from a safetensors file — the hook any other
/// SD-VAE implementation can be checked against.
struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode latents with the SD-VAE: z from --latents; image to --output.",
        discussion: """
        --latents holds z F32 (B, 4, h, w): latents as FiT produces them (scaled; the command divides \
        by the VAE's scaling factor). --output receives image F32 (B, 3, 8h, 8w), the decoder's \
        output in about [-1, 1] before clamping.
        """
    )

    @Option(help: "The VAE (.safetensors, diffusers key names; config from 'vae_config' metadata, a config.json beside it, or sd-vae-ft-ema's).")
    var vae: String

    @Option(help: "Safetensors file with z.")
    var latents: String

    @Option(help: "Where to write the output safetensors (written atomically).")
    var output: String

    @Option(help: "Decode in tiles owning at most N×N latent pixels each (bounded memory for large images; about 3× slower).")
    var tile: Int?

    @Option(help: "Latent pixels of context each tile also decodes on every side, where neighbours cross-fade (with --tile).")
    var tileOverlap: Int = 8

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if let tile, tile < 1 { throw ValidationError("--tile must be at least 1, got \(tile)") }
        if tileOverlap < 0 { throw ValidationError("--tile-overlap must be ≥ 0") }
    }

    func run() throws {
        runtime.apply()
        try Console.reportingErrors {
            let decoder = try VAECheckpoint(path: vae).makeDecoder()
            let file = try SafetensorsFile(path: latents)
            guard file.entries["z"] != nil else {
                throw FiTError.invalidInput("\(latents) has no tensor 'z'; --latents needs z F32 (B, \(decoder.configuration.latentChannels), h, w)")
            }
            let z = try file.tensor("z")
            let image = try decoder.decode(z, tile: tile, overlap: tileOverlap)
            try SafetensorsWriter.write([("image", .float32(image))], to: output)
        }
    }
}
