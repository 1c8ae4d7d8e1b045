import Foundation
import Testing
@testable import FiTKit

/// The model's advice in its metadata (RoPE within and beyond the trained sizes), the geometry of
/// latent models with a VAE of another factor, and weight subsets by prefix.
@Suite struct ModelAdviceTests {
    static func advice(_ json: String) throws -> ModelMetadata.RecommendedSampling {
        try JSONDecoder().decode(ModelMetadata.RecommendedSampling.self, from: Data(json.utf8))
    }

    @Test func ropeBeyondTheTrainedSizesFollowsTheExtrapolationAdvice() throws {
        let a = try Self.advice(#"{"interpolation": "no", "extrapolation": {"interpolation": "dynntk", "decouple": true, "trained_tokens": 144, "trained_side": 16}}"#)
        let plain = RoPEScaling(interpolation: .no), vision = RoPEScaling(interpolation: .dynntk, decouple: true)
        // every grid up to 24×24 tokens: inside when both rules hold, beyond otherwise
        for h in 1...24 {
            for w in 1...24 {
                let beyond = h * w > 144 || max(h, w) > 16
                #expect(a.isBeyondTraining(height: h, width: w) == beyond, "\(h)×\(w)")
                #expect(a.rope(height: h, width: w) == (beyond ? vision : plain), "\(h)×\(w)")
            }
        }
        // no advice: nothing is beyond, and the model's own RoPE is kept
        let none = try Self.advice("{}")
        #expect(none.rope(height: 40, width: 40) == nil && !none.isBeyondTraining(height: 40, width: 40))
        // a method fit does not know is ignored rather than guessed
        let odd = try Self.advice(#"{"extrapolation": {"interpolation": "warp", "trained_tokens": 4, "trained_side": 2}}"#)
        #expect(odd.rope(height: 8, width: 8) == nil)
    }

    @Test func malformedAdviceIsAnError() throws {
        #expect(throws: DecodingError.self) { try Self.advice(#"{"extrapolation": {"interpolation": "dynntk"}}"#) }
    }

    @Test func latentGeometryUsesTheVAEFactor() throws {
        var config = ModelPreset.fitv2XL.configuration
        config.inChannels = 4
        config.patchSize = 1
        let embedded = ImageGeometry(config, vaeFactor: 4), sd = ImageGeometry(config)
        #expect(embedded.sizeStep == 4 && sd.sizeStep == 8)
        #expect(try embedded.grid(width: 64, height: 32) == (8, 16))
        #expect(throws: FiTError.self) { try embedded.grid(width: 30, height: 32) }
        do { _ = try embedded.grid(width: 30, height: 32) } catch { #expect("\(error)".contains("VAE 4")) }
        config.inChannels = 3
        #expect(ImageGeometry(config, vaeFactor: 4).sizeStep == 1)     // pixel models ignore the factor
    }

    @Test func weightSubsetsSplitByPrefix() throws {
        struct Named: WeightSource {
            let tensorShapesByName: [String: [Int]] = ["a.w": [2], "vae.b.w": [3], "vae.c": [1]]
            func tensor(_ name: String) throws -> Tensor {
                guard let shape = tensorShapesByName[name] else { throw FiTError.missingTensors(names: [name]) }
                let t = Tensor(zeros: shape)
                for i in 0..<t.count { t.data[i] = Float(name.count * 10 + i) }
                return t
            }
        }
        let all = Named()
        let inside = WeightSubset(all, under: "vae."), outside = WeightSubset(all, outside: "vae.")
        #expect(Set(inside.tensorShapesByName.keys) == ["b.w", "c"])
        #expect(Set(outside.tensorShapesByName.keys) == ["a.w"])
        #expect(try inside.tensor("b.w").toArray() == (try all.tensor("vae.b.w")).toArray())
        #expect(throws: FiTError.self) { try inside.tensor("a.w") }
        #expect(throws: FiTError.self) { try outside.tensor("vae.c") }
    }
}
