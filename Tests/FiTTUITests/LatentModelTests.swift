import Foundation
import Testing
import FiTKit

/// Latent-space models end to end: `fit decode`, and generate/render with the VAE found by
/// `--vae`, `$FIT_VAE` or `vae.safetensors` beside the model.
@Suite struct LatentModelTests {
    let cli = CommandLineTests()
    static let vaeFixtures = CommandLineTests.root.appendingPathComponent("Tests/FiTKitTests/Fixtures/vae")
    var vae: String { Self.vaeFixtures.appendingPathComponent("tiny-modern.safetensors").path }
    var latents: String { Self.vaeFixtures.appendingPathComponent("tiny-modern.io.safetensors").path }
    /// A 4-channel FiTv2 fixture model.
    var model: String { cli.fixture("v2-tiny.safetensors") }

    @Test func decodeWritesWhatTheReferenceComputes() throws {
        // Tiles of 4 with 10 pixels of context see the whole latent, so tiling must change nothing
        // (how close real tiles come is checked in FiTKit's VAEDecoderTests).
        for tile: [String] in [[], ["--tile", "4", "--tile-overlap", "10"]] {
            let out = cli.scratch("image.safetensors")
            let r = try cli.fit(["decode", "--vae", vae, "--latents", latents, "--output", out] + tile, environment: [:])
            #expect(r.status == 0, "\(r.stderr)")
            let image = try SafetensorsFile(path: out).tensor("image")
            let expected = try SafetensorsFile(path: latents).tensor("image")
            #expect(image.shape == [1, 3, 48, 80])
            var worst: Float = 0, scale: Float = 0
            for i in 0..<expected.count { worst = max(worst, abs(image.data[i] - expected.data[i])); scale = max(scale, abs(expected.data[i])) }
            #expect(worst / scale <= 1e-4, "tile \(tile): \(worst / scale)")
        }
    }

    @Test func decodeRefusesBadInput() throws {
        cli.expectBadInput(try cli.fit("decode", "--vae", vae, "--latents", vae, "--output", cli.scratch("o.safetensors")),
                           mentions: "no tensor 'z'")
        cli.expectBadInput(try cli.fit("decode", "--vae", cli.fixture("v2-tiny.safetensors"), "--latents", latents,
                                       "--output", cli.scratch("o.safetensors")), mentions: "post_quant_conv")
        let missing = cli.scratch("none.safetensors")
        cli.expectBadInput(try cli.fit("decode", "--vae", missing, "--latents", latents, "--output", cli.scratch("o.safetensors")),
                           mentions: "no such file")
    }

    @Test func aLatentModelWithoutAVAESaysHowToGetOne() throws {
        let r = try cli.fit(["generate", "--model", model, "--class", "1", "--steps", "2", "--out", cli.scratch("x.png")],
                            environment: ["FIT_VAE": ""])
        cli.expectBadInput(r, mentions: "--vae")
        #expect(r.stderr.contains("FIT_VAE") && r.stderr.contains("sd-vae-ft-ema"))
    }

    @Test func generateDecodesWithTheVAEFromEveryPlace() throws {
        // --vae
        let a = cli.scratch("a.png")
        let r = try cli.fit(["generate", "--model", model, "--vae", vae, "--class", "1", "--steps", "3", "--seed", "5",
                             "--size", "64x32", "--out", a], environment: ["FIT_VAE": ""])
        #expect(r.status == 0, "\(r.stderr)")
        let image = try PNGFile.read(a).image
        #expect(image.width == 64 && image.height == 32)
        // $FIT_VAE gives the same picture.
        let b = cli.scratch("b.png")
        #expect(try cli.fit(["generate", "--model", model, "--class", "1", "--steps", "3", "--seed", "5", "--size", "64x32", "--out", b],
                            environment: ["FIT_VAE": vae]).status == 0)
        #expect(try PNGFile.read(b).image == image)
        // vae.safetensors beside the model.
        let folder = URL(fileURLWithPath: cli.scratch("m")).deletingLastPathComponent()
        try FileManager.default.copyItem(atPath: model, toPath: folder.appendingPathComponent("model.safetensors").path)
        try FileManager.default.copyItem(atPath: vae, toPath: folder.appendingPathComponent("vae.safetensors").path)
        let c = folder.appendingPathComponent("c.png").path
        let beside = try cli.fit(["generate", "--model", folder.appendingPathComponent("model.safetensors").path, "--class", "1",
                                  "--steps", "3", "--seed", "5", "--size", "64x32", "--out", c], environment: ["FIT_VAE": ""])
        #expect(beside.status == 0, "\(beside.stderr)")
        #expect(try PNGFile.read(c).image == image)
    }

    /// `fit generate` writes the picture the PyTorch pipeline makes (sampling, then the VAE).
    @Test func generateMakesThePyTorchPicture() throws {
        let out = cli.scratch("p.png")
        let r = try cli.fit(["generate", "--model", model, "--vae", vae, "--class", "1", "--steps", "3", "--seed", "5",
                             "--cfg", "1.5", "--sampler", "euler", "--size", "64x32", "--out", out, "--precision", "fp32"], environment: [:])
        #expect(r.status == 0, "\(r.stderr)")
        let written = try PNGFile.read(out).image
        let expected = RGBImage(tensor: try SafetensorsFile(path: Self.vaeFixtures.appendingPathComponent("pipeline-v2-tiny.safetensors").path)
            .tensor("image"))
        #expect(written.width == expected.width && written.height == expected.height)
        // Within one 8-bit level (float32 here, float64 in the reference: a value may sit on a rounding edge).
        let worst = zip(written.pixels, expected.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 99
        #expect(worst <= 1, "worst difference \(worst) levels")
    }

    @Test func renderShowsTheDecodeOrThePreview() throws {
        let full = try cli.fit(["render", "--model", model, "--vae", vae, "--class", "2", "--steps", "2", "--seed", "1",
                                "--size", "32x32", "--color", "256"], environment: [:])
        #expect(full.status == 0, "\(full.stderr)")
        let preview = try cli.fit(["render", "--model", model, "--vae", vae, "--class", "2", "--steps", "2", "--seed", "1",
                                   "--size", "32x32", "--color", "256", "--preview"], environment: [:])
        #expect(preview.status == 0, "\(preview.stderr)")
        // The decode is 32 pixels wide (16 rows of half blocks); the preview is the 4×4 latent (2 rows).
        #expect(full.stdout.split(separator: "\n").count == 16)
        #expect(preview.stdout.split(separator: "\n").count == 2)
    }
}

extension LatentModelTests {
    @Test func inspectDescribesAVAE() throws {
        let r = try cli.fit("inspect", vae)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("SD-VAE") && r.stdout.contains("safetensors metadata 'vae_config'"))
        #expect(r.stdout.contains("binding:       ok"))
    }
}

extension LatentModelTests {
    /// x0 estimates are VAE decodes; noisy x_t steps are previews enlarged to the same size.
    @Test func trajectoryAndSheetOfALatentModel() throws {
        let dir = URL(fileURLWithPath: cli.scratch("x")).deletingLastPathComponent()
        let r = try cli.fit(["generate", "--model", model, "--vae", vae, "--class", "0", "--steps", "3", "--seed", "2",
                             "--size", "64x32", "--out", dir.appendingPathComponent("final.png").path,
                             "--trajectory", dir.appendingPathComponent("steps").path,
                             "--sheet", dir.appendingPathComponent("sheet.png").path], environment: [:])
        #expect(r.status == 0, "\(r.stderr)")
        for name in ["step-000-xt.png", "step-000-x0.png", "step-002-x0.png"] {
            let image = try PNGFile.read(dir.appendingPathComponent("steps/\(name)").path).image
            #expect(image.width == 64 && image.height == 32, "\(name)")
        }
        let sheet = try PNGFile.read(dir.appendingPathComponent("sheet.png").path).image
        #expect(sheet.width == 4 * 64 + 5 * 2 && sheet.height == 2 * 32 + 3 * 2 + 2 * 5 + 2) // captions at scale 2 below
    }
}

extension LatentModelTests {
    /// A model file that carries its VAE (`vae.*` tensors, `vae_config` metadata), as the embedded
    /// model does: no flag is needed, and it decodes exactly as the same VAE given as a file.
    func carryingModel(withConfiguration: Bool = true) throws -> String {
        let fit = try SafetensorsFile(path: model), decoder = try SafetensorsFile(path: vae)
        var tensors: [(String, SafetensorsWriter.Value)] = try fit.names.map { ($0, .float32(try fit.tensor($0))) }
        tensors += try decoder.names.map { ("vae.\($0)", .float32(try decoder.tensor($0))) }
        var metadata = fit.metadata
        if withConfiguration { metadata["vae_config"] = decoder.metadata["vae_config"] }
        let path = cli.scratch(withConfiguration ? "carrying.safetensors" : "carrying-bare.safetensors")
        try SafetensorsWriter.write(tensors, metadata: metadata, to: path)
        return path
    }

    @Test func aModelCarryingItsVAENeedsNoFlag() throws {
        let carrying = try carryingModel()
        let checkpoint = try ModelCheckpoint(path: carrying)
        #expect(checkpoint.carriedVAE?.source == .carried)
        #expect(try checkpoint.makeModel().configuration == (try ModelCheckpoint(path: model).configuration))
        let a = cli.scratch("carried.png"), b = cli.scratch("given.png")
        let r = try cli.fit(["generate", "--model", carrying, "--class", "1", "--steps", "3", "--seed", "5", "--size", "64x32",
                             "--out", a], environment: ["FIT_VAE": cli.scratch("nowhere.safetensors")])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try cli.fit(["generate", "--model", model, "--vae", vae, "--class", "1", "--steps", "3", "--seed", "5",
                             "--size", "64x32", "--out", b], environment: [:]).status == 0)
        #expect(try PNGFile.read(a).image == (try PNGFile.read(b).image))
        let inspect = try cli.fit("inspect", carrying)
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("VAE:           carried") && inspect.stdout.contains("the VAE's too"), "\(inspect.stdout)")
        // --vae still wins over the carried one.
        let missing = cli.scratch("missing-vae.safetensors")
        cli.expectBadInput(try cli.fit(["generate", "--model", carrying, "--vae", missing, "--class", "1", "--steps", "2",
                                        "--out", cli.scratch("c.png")], environment: [:]), mentions: "no such file")
    }

    @Test func carriedVAETensorsWithoutAConfigurationAreRefused() throws {
        let bare = try carryingModel(withConfiguration: false)
        cli.expectBadInput(try cli.fit(["generate", "--model", bare, "--class", "1", "--steps", "2", "--out", cli.scratch("d.png")],
                                       environment: [:]), mentions: "vae_config")
    }
}
