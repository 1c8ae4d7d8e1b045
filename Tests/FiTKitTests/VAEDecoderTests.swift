import Foundation
import Testing
@testable import FiTKit

/// The SD-VAE decoder against the PyTorch reference (`python/make_vae_fixtures.py`), its tiled
/// mode against the whole decode, and its refusals.
@Suite struct VAEDecoderTests {
    static func vae(_ name: String) -> String { Fixtures.directory.appendingPathComponent("vae/\(name)").path }

    /// Decodes `io`'s z with `decoder` and returns the relative error against its image.
    func parityError(_ decoder: VAEDecoder, io: String) throws -> (error: Double, image: Tensor, expected: Tensor) {
        let file = try SafetensorsFile(path: io)
        let expected = try file.tensor("image")
        let image = try decoder.decode(try file.tensor("z"))
        #expect(image.shape == expected.shape)
        return (relativeError(image.toArray(), expected.toArray()), image, expected)
    }

    @Test(arguments: [
        ("tiny-modern.safetensors", "tiny-modern.io.safetensors", VAECheckpoint.ConfigurationSource.metadata),
        ("tiny-legacy/diffusion_pytorch_model.safetensors", "tiny-legacy.io.safetensors",
         .sidecar(vae("tiny-legacy/config.json"))),
        ("tiny-3up.safetensors", "tiny-3up.io.safetensors", .metadata),
    ])
    func reducedConfigurationsMatchPyTorch(weights: String, io: String, source: VAECheckpoint.ConfigurationSource) throws {
        let checkpoint = try VAECheckpoint(path: Self.vae(weights))
        #expect(checkpoint.source == source)
        let (error, _, _) = try parityError(try checkpoint.makeDecoder(), io: Self.vae(io))
        #expect(error <= 1e-4, "relative error \(error)")
    }

    @Test func scalingFactorAndUpBlocksComeFromTheConfiguration() throws {
        let configuration = try VAECheckpoint(path: Self.vae("tiny-3up.safetensors")).configuration
        #expect(configuration.blockOutChannels.count == 3 && configuration.downsamplingFactor == 4)
        #expect(configuration.scalingFactor != VAEConfiguration.sdVAEFtEMA.scalingFactor)
    }

    /// sd-vae-ft-ema's real shapes (140 tensors, 49,490,199 parameters) with synthetic weights
    /// that the reference generates by the same formula, at a 32×32 latent (256×256 pixels).
    @Test func realShapesMatchPyTorch() throws {
        let shapes = VAEConfiguration.sdVAEFtEMA.tensorShapes()
        #expect(shapes.count == 140)
        #expect(shapes.reduce(0) { $0 + $1.shape.reduce(1, *) } == 49_490_199)
        let weights = SyntheticWeights(shapes: shapes)
        // Values the reference prints (python/tests/test_vae.py).
        #expect(Array(try weights.tensor("decoder.conv_in.weight").toArray().prefix(3)) == [0x1.91c684p-4, -0x1.153698p-3, -0x1.f3c15ap-8])
        #expect(Array(try weights.tensor("decoder.conv_norm_out.weight").toArray().prefix(3)) == [0x1.cecc86p-1, 0x1.c0b41p-1, 0x1.f6b23cp-1])
        // The reference's sums over all synthetic weights (stored in the fixture) pin the formula.
        let metadata = try SafetensorsFile(path: Self.vae("sd-vae-ft-ema-synthetic.safetensors")).metadata
        var sum = 0.0
        for (name, _) in shapes { sum += try weights.tensor(name).toArray().reduce(0.0) { $0 + Double($1) } }
        let expectedSum = try #require(Double(metadata["synthetic_sum"] ?? ""))
        #expect(abs(sum - expectedSum) <= 1e-6 * abs(expectedSum) + 1e-3, "synthetic sum \(sum) vs reference \(expectedSum)")
        let decoder = try VAEDecoder(configuration: .sdVAEFtEMA, weights: weights)
        let (error, image, _) = try parityError(decoder, io: Self.vae("sd-vae-ft-ema-synthetic.safetensors"))
        #expect(image.shape == [1, 3, 256, 256])
        #expect(error <= 1e-4, "relative error \(error)")
    }

    /// Seed → sampled latents → VAE: the v2 fixture transformer and the tiny VAE together make the
    /// picture the PyTorch reference makes (`pipeline-v2-tiny`, computed in float64).
    @Test func theWholePipelineMatchesPyTorch() throws {
        let fixture = try SafetensorsFile(path: Self.vae("pipeline-v2-tiny.safetensors"))
        func value<T: Decodable>(_ key: String, as type: T.Type) throws -> T {
            try JSONDecoder().decode(T.self, from: Data(try #require(fixture.metadata[key]).utf8))
        }
        let model = try ModelCheckpoint(path: Fixtures.forward("v2-tiny.safetensors")).makeModel()
        let tokens = try value("tokens", as: [Int].self), patch = model.configuration.patchSize
        let parameters = SamplingParameters(
            classes: try value("classes", as: [Int].self), height: tokens[0] * patch, width: tokens[1] * patch, steps: try value("steps", as: Int.self),
            sampler: try #require(SamplerKind(rawValue: try value("sampler", as: String.self))),
            guidanceScale: try value("cfg", as: Double.self), seed: try value("seed", as: UInt64.self), rope: nil)
        let state = try #require(Array(try DenoisingTrajectory(model: model, parameters: parameters)).last).next
        // The guided state holds the conditional rows first; the picture is the first of them.
        let perSample = state.count / state.shape[0]
        let latents = Tensor(shape: [1] + state.shape.dropFirst(), values: Array(state.toArray().prefix(perSample)))
        let expectedLatents = try fixture.tensor("z")
        try #require(latents.shape == expectedLatents.shape, "sampled \(state.shape), reference \(expectedLatents.shape)")
        #expect(relativeError(latents.toArray(), try fixture.tensor("z").toArray()) <= 1e-3)
        let decoder = try VAECheckpoint(path: Self.vae(try value("vae", as: String.self) + ".safetensors")).makeDecoder()
        let image = try decoder.decode(latents)
        let error = relativeError(image.toArray(), try fixture.tensor("image").toArray())
        #expect(error <= 1e-3, "relative error \(error)")
    }

    /// Tiled decoding shares GroupNorm statistics across tiles and cross-fades them: in 8-bit
    /// output it stays within 2 levels of the whole decode.
    @Test func tiledDecodingIsSeamFree() throws {
        let decoder = try VAEDecoder(configuration: .sdVAEFtEMA, weights: SyntheticWeights(shapes: VAEConfiguration.sdVAEFtEMA.tensorShapes()))
        let z = Tensor(zeros: [1, 4, 32, 24])
        var state: UInt64 = 12345
        for i in 0..<z.count {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            z.data[i] = Float(Int(state >> 40) % 2001 - 1000) / 1000
        }
        let whole = try decoder.decode(z)
        let tiled = try decoder.decodeTiled(z, tile: 16, overlap: 8)
        let a = RGBImage(tensor: whole), b = RGBImage(tensor: tiled)
        let worst = zip(a.pixels, b.pixels).map { abs(Int($0) - Int($1)) }.max() ?? 0
        #expect(worst <= 2, "tiled vs whole: \(worst) levels")
        // Per-tile statistics (what plain tiling does) would not pass: the check can fail.
        #expect(relativeError(tiled.toArray(), whole.toArray()) > 0)
    }

    @Test func tilesPartitionTheLatent() {
        for (length, tile, margin) in [(48, 24, 8), (50, 16, 4), (7, 3, 0), (10, 32, 8)] {
            let tiles = VAEDecoder.tiles(length: length, tile: tile, margin: margin)
            let owned = tiles.flatMap { t in (t.core.lowerBound + t.span.lowerBound)..<(t.core.upperBound + t.span.lowerBound) }
            #expect(owned == Array(0..<length))
            #expect(tiles.allSatisfy { $0.core.count <= tile && $0.span.lowerBound >= 0 && $0.span.upperBound <= length })
            #expect(tiles.allSatisfy { $0.span.count <= min(length, tile + 2 * margin) })
        }
    }

    @Test func latentPreviewUsesTheSD1Factors() {
        let z = Tensor(zeros: [1, 4, 1, 2])
        z.data[0] = 1      // channel 0 at pixel 0
        z.data[2 + 1] = -1 // channel 1 at pixel 1
        let image = LatentPreview.sd1.image(z, index: 0)
        #expect(image.width == 2 && image.height == 1)
        #expect(Array(image.pixels[0..<3]) == [UInt8(127.5 * 0.3512 + 128), UInt8(127.5 * 0.2297 + 128), UInt8(127.5 * 0.3227 + 128)])
        #expect(Array(image.pixels[3..<6]) == [UInt8(128 - 127.5 * 0.3250), UInt8(128 - 127.5 * 0.4974), UInt8(128 - 127.5 * 0.2350)])
    }

    @Test func flopCountMatchesTheBrief() {
        // docs/cpu.md §3.1: 622 GFLOP for a 256×256 decode.
        let gflop = 2 * Double(VAEConfiguration.sdVAEFtEMA.decodeMACs(height: 32, width: 32)) / 1e9
        #expect((621...623).contains(gflop))
    }

    // MARK: - Bad input

    /// Writes the tiny VAE with `edit` applied to its tensors.
    func tinyVAE(_ edit: (inout [(String, SafetensorsWriter.Value)]) -> Void, metadata: [String: String]? = nil) throws -> String {
        let source = try SafetensorsFile(path: Self.vae("tiny-modern.safetensors"))
        var tensors: [(String, SafetensorsWriter.Value)] = try source.names.map { ($0, .float32(try source.tensor($0))) }
        edit(&tensors)
        let path = Fixtures.scratchDirectory().appendingPathComponent("vae.safetensors").path
        try SafetensorsWriter.write(tensors, metadata: metadata ?? source.metadata, to: path)
        return path
    }

    @Test func aMissingTensorIsNamed() throws {
        let path = try tinyVAE { $0.removeAll { $0.0 == "decoder.up_blocks.1.resnets.0.conv2.weight" } }
        #expect(throws: FiTError.self) { try VAECheckpoint(path: path).makeDecoder() }
        do { _ = try VAECheckpoint(path: path).makeDecoder() } catch {
            #expect("\(error)".contains("decoder.up_blocks.1.resnets.0.conv2.weight"))
        }
    }

    @Test func aWrongShapeIsNamed() throws {
        let path = try tinyVAE { tensors in
            let i = tensors.firstIndex { $0.0 == "decoder.conv_out.weight" }!
            tensors[i].1 = .float32(Tensor(zeros: [3, 16, 1, 1]))
        }
        do { _ = try VAECheckpoint(path: path).makeDecoder(); Issue.record("accepted a mis-shaped tensor") } catch {
            #expect("\(error)".contains("decoder.conv_out.weight") && "\(error)".contains("[3, 16, 1, 1]"))
        }
    }

    @Test func aConfigurationThatContradictsTheShapesIsRefused() throws {
        // The tiny weights under sd-vae-ft-ema's configuration (no metadata, no config.json).
        let path = try tinyVAE({ _ in }, metadata: [:])
        do { _ = try VAECheckpoint(path: path).makeDecoder(); Issue.record("accepted weights of another configuration") } catch {
            #expect("\(error)".contains("sd-vae-ft-ema"))
        }
        let bad = try tinyVAE({ _ in }, metadata: ["vae_config": #"{"block_out_channels": [16, 16, 32, 32], "norm_num_groups": 5}"#])
        do { _ = try VAECheckpoint(path: bad); Issue.record("accepted groups that do not divide the channels") } catch {
            #expect("\(error)".contains("norm_num_groups"))
        }
    }

    @Test func encoderTensorsAreIgnoredButStrayDecoderTensorsAreNot() throws {
        let extra = try tinyVAE { $0.append(("encoder.conv_in.weight", .float32(Tensor(zeros: [2, 3, 3, 3])))) }
        #expect(throws: Never.self) { try VAECheckpoint(path: extra).makeDecoder() }
        let stray = try tinyVAE { $0.append(("decoder.up_blocks.9.resnets.0.conv1.weight", .float32(Tensor(zeros: [1])))) }
        do { _ = try VAECheckpoint(path: stray).makeDecoder(); Issue.record("accepted a stray decoder tensor") } catch {
            #expect("\(error)".contains("decoder.up_blocks.9.resnets.0.conv1.weight"))
        }
    }

    @Test func theOriginalLDMLayoutIsNamed() throws {
        let path = try tinyVAE { tensors in
            tensors = tensors.map { ($0.0.replacingOccurrences(of: "decoder.mid_block.resnets.0", with: "decoder.mid.block_1"), $0.1) }
        }
        do { _ = try VAECheckpoint(path: path).makeDecoder(); Issue.record("accepted the LDM layout") } catch {
            #expect("\(error)".contains("CompVis") && "\(error)".contains("diffusion_pytorch_model.safetensors"))
        }
    }

    @Test func aPickleIsExplainedWithTheConversionCommand() throws {
        let path = Fixtures.scratchDirectory().appendingPathComponent("vae.safetensors").path
        try Data([0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 60)).write(to: URL(fileURLWithPath: path))
        do { _ = try VAECheckpoint(path: path); Issue.record("accepted a pickle") } catch {
            #expect("\(error)".contains("convert_checkpoint.py"))
        }
    }

    @Test func latentsOfTheWrongShapeAreRefused() throws {
        let decoder = try VAECheckpoint(path: Self.vae("tiny-modern.safetensors")).makeDecoder()
        #expect(throws: FiTError.self) { try decoder.decode(Tensor(zeros: [1, 3, 4, 4])) }
        #expect(throws: FiTError.self) { try decoder.decode(Tensor(zeros: [4, 4, 4])) }
    }
}
