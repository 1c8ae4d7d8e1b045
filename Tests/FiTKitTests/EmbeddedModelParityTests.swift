import Foundation
import Testing
@testable import FiTKit

/// The shipped emoji model (a latent FiT carrying its own small VAE) makes the same latents and
/// the same images here as in the PyTorch reference.
@Suite struct EmbeddedModelParityTests {
    struct Manifest: Decodable {
        struct Case: Decodable, CustomStringConvertible {
            let `case`: String, sampler: String, steps: Int, cfg: Double, seed: UInt64, `class`: Int
            let height: Int, width: Int, interpolation: String, decouple: Bool, ori_max_pe_len: Int?, file: String
            var description: String { self.case }
        }
        let model_fingerprint: String
        let cases: [Case]
    }

    static let modelPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/FiTTUI/Resources/fit-emoji.safetensors").path
    static let manifest: Manifest? = {
        let url = Fixtures.directory.appendingPathComponent("embedded/manifest.json")
        return (try? Data(contentsOf: url)).flatMap { try? JSONDecoder().decode(Manifest.self, from: $0) }
    }()

    @Test func fixturesBelongToTheShippedModel() throws {
        let manifest = try #require(Self.manifest)
        let file = try SafetensorsFile(path: Self.modelPath)
        #expect(ModelFingerprint.of(file) == manifest.model_fingerprint,
                "the model was re-exported without new fixtures: run python/make_embedded_fixtures.py")
        #expect(file.entries.values.allSatisfy { $0.dtype == .f16 })
        let size = try FileManager.default.attributesOfItem(atPath: Self.modelPath)[.size] as! Int
        #expect(size <= 25_000_000)
        let metadata = try ModelMetadata(file: file)
        #expect(metadata.classNames == ["smiley", "heart", "person", "hand", "animal", "plant", "food", "vehicle", "building",
                                        "sky-weather", "clock", "flag", "symbol", "object", "activity"])
        #expect(metadata.recommended.sampler != nil && metadata.recommended.steps != nil && metadata.recommended.cfg != nil)
        #expect(metadata.recommended.extrapolation != nil)
        let checkpoint = try ModelCheckpoint(path: Self.modelPath)
        let vae = try #require(checkpoint.carriedVAE)
        #expect(vae.configuration.downsamplingFactor == 4 && vae.configuration.latentChannels == checkpoint.configuration.inChannels)
        #expect(LatentDecoder.canDecodeEveryStep(vae.configuration), "the embedded VAE is small enough to decode every step")
        #expect(!LatentDecoder.canDecodeEveryStep(.sdVAEFtEMA))
    }

    @Test(arguments: manifest?.cases ?? [])
    func sameImagesAsThePyTorchReference(_ c: Manifest.Case) throws {
        let checkpoint = try ModelCheckpoint(path: Self.modelPath)
        let model = try checkpoint.makeModel()
        let parameters = SamplingParameters(
            classes: [c.class], height: c.height, width: c.width, steps: c.steps, sampler: try #require(SamplerKind(rawValue: c.sampler)),
            guidanceScale: c.cfg, seed: c.seed,
            rope: RoPEScaling(interpolation: try #require(RoPEInterpolation(rawValue: c.interpolation)), decouple: c.decouple,
                              oriMaxPeLen: c.ori_max_pe_len))
        let expected = try SafetensorsFile(path: Fixtures.directory.appendingPathComponent("embedded/\(c.file)").path)
        let trajectory = try DenoisingTrajectory(model: model, parameters: parameters)
        #expect(relativeError(trajectory.initialNoise.toArray(), try expected.tensor("x_T").toArray()) <= 1e-6)
        let final = try #require(Array(trajectory).last).next
        let error = relativeError(final.toArray(), try expected.tensor("sample").toArray())
        #expect(error <= 1e-3, "\(c.case): relative error \(error)")
        let image = try #require(checkpoint.carriedVAE).makeDecoder().decode(final)
        #expect(image.shape == [1, 3, 4 * c.height, 4 * c.width])
        let imageError = relativeError(image.toArray(), try expected.tensor("image").toArray())
        #expect(imageError <= 1e-3, "\(c.case): decoded image relative error \(imageError)")
    }
}
