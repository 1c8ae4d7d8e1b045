import Foundation
import Testing
@testable import FiTKit

/// Non-finite numbers, impossible settings and runaway samplers end in a clear error, never in
/// a black PNG, a trap or a run without end.
@Suite struct NumericalSafetyTests {
    static let pixelModel = Fixtures.forward("pixel-tiny.safetensors")

    /// A copy of the pixel fixture with `poison` written into element `at` of tensor `name`.
    static func poisonedCopy(_ name: String, at: Int, poison: Float) throws -> String {
        let source = try SafetensorsFile(path: pixelModel)
        let path = Fixtures.scratchDirectory().appendingPathComponent("poisoned.safetensors").path
        let tensors: [(String, SafetensorsWriter.Value)] = try source.names.map { n in
            let t = try source.tensor(n).copy()
            if n == name { t.data[at] = poison }
            return (n, .float32(t))
        }
        try SafetensorsWriter.write(tensors, metadata: source.metadata, to: path)
        return path
    }

    static func parameters(steps: Int = 4, sampler: SamplerKind = .euler, cfg: Double = 2) -> SamplingParameters {
        SamplingParameters(classes: [1], height: 8, width: 8, steps: steps, sampler: sampler, guidanceScale: cfg, seed: 3)
    }

    @Test(arguments: [Float.nan, .infinity, -.infinity])
    func poisonedWeightsStopAtTheFirstStepWithAnError(_ poison: Float) throws {
        let checkpoint = try ModelCheckpoint(path: try Self.poisonedCopy("final_layer.linear.weight", at: 5, poison: poison))
        var iterator = try DenoisingTrajectory(model: try checkpoint.makeModel(), parameters: Self.parameters()).makeIterator()
        #expect(throws: FiTError.nonFiniteValues(output: "x0 (the model's estimate of the clean image)", step: 0, steps: 4)) {
            _ = try iterator.nextStep()
        }
        // The plain iterator ends instead of trapping, and says why.
        #expect(iterator.next() == nil)
        #expect(iterator.failure != nil)
        let message = "\(FiTError.nonFiniteValues(output: "x0", step: 0, steps: 4))"
        #expect(message.contains("at step 1 of 4 in x0") && message.contains("nothing was written"))
    }

    @Test func finiteWeightsRunToTheEnd() throws {
        let model = try ModelCheckpoint(path: Self.pixelModel).makeModel()
        var iterator = try DenoisingTrajectory(model: model, parameters: Self.parameters()).makeIterator()
        var steps = 0
        while try iterator.nextStep() != nil { steps += 1 }
        #expect(steps == 4 && iterator.failure == nil)
    }

    @Test func dopri5StopsAtItsEvaluationBudget() throws {
        let model = try ModelCheckpoint(path: Self.pixelModel).makeModel()
        let p = Self.parameters(sampler: .dopri5)
        let guided = GuidedModel(model: model, parameters: p)
        var noise: any NoiseSource = TorchNoiseSource(seed: p.seed)
        let x = noise.image(rows: guided.batch, configuration: model.configuration, height: 8, width: 8)
        var state = SamplerState(x: Tensor.concatenatingBatches([x, x]), model: guided, noise: noise, height: 8, width: 8)
        var sampler = Dopri5Sampler(maximumEvaluations: 8)
        var failure: Error?
        for _ in 0..<100 {
            do { if try sampler.step(&state) == nil { break } } catch { failure = error; break }
        }
        #expect("\(failure.map { "\($0)" } ?? "no error")".contains("after 8 model evaluations (its limit is 8)"))
        #expect(guided.evaluations <= 8)
    }

    @Test func guidanceNeedsANullClass() throws {
        var c = try ModelCheckpoint(path: Self.pixelModel).configuration
        c.classDropoutProb = 0
        let model = try FiT(configuration: c, weights: RandomWeights(configuration: c))
        #expect(throws: FiTError.self) { try DenoisingTrajectory(model: model, parameters: Self.parameters(cfg: 4)) }
        do { _ = try DenoisingTrajectory(model: model, parameters: Self.parameters(cfg: 4)) } catch {
            #expect("\(error)".contains("no unconditional class"))
        }
        _ = try DenoisingTrajectory(model: model, parameters: Self.parameters(cfg: 1))
    }

    @Test func stepsAndGuidanceHaveUpperLimits() throws {
        let model = try ModelCheckpoint(path: Self.pixelModel).makeModel()
        for p in [Self.parameters(steps: Int.max), Self.parameters(steps: SamplingParameters.maximumSteps + 1),
                  Self.parameters(cfg: 1e308), Self.parameters(cfg: .infinity), Self.parameters(cfg: .nan)] {
            #expect(throws: FiTError.self, "\(p)") { try DenoisingTrajectory(model: model, parameters: p) }
        }
        _ = try DenoisingTrajectory(model: model, parameters: Self.parameters(steps: SamplingParameters.maximumSteps))
    }

    @Test func finiteCheckFindsEveryKindAnywhere() {
        let t = Tensor(zeros: [3, 5000])
        #expect(t.isFinite)
        for position in [0, 4095, 4096, 9999, 14_999] {
            for bad in [Float.nan, .infinity, -.infinity, Float(bitPattern: 0x7FC0_0001)] {
                t.data[position] = bad
                #expect(!t.isFinite, "\(bad) at \(position)")
                t.data[position] = .greatestFiniteMagnitude
                #expect(t.isFinite)
            }
        }
    }

    @Test func imagesFromNaNAreBlackInsteadOfATrap() {
        let t = Tensor(shape: [1, 3, 1, 2], values: [.nan, 1, .infinity, -.infinity, .nan, 0])
        let image = RGBImage(tensor: t)
        #expect(image.pixels == [0, 255, 0, 255, 0, 128])
    }
}

/// Contact-sheet captions: what they say and that the font draws every character they use.
@Suite struct ContactSheetCaptionTests {
    @Test func captionsSayStepAndTime() {
        #expect(ContactSheet.caption(step: 12, t: 0.375, flow: true) == "12 t=.38")
        #expect(ContactSheet.caption(step: nil, t: 1, flow: true) == "end t=1")
        #expect(ContactSheet.caption(step: 3, t: 480.2, flow: false) == "3 t=480")
        #expect(ContactSheet.caption(step: nil, t: 0, flow: false) == "end t=0")
    }

    @Test func everyCaptionCharacterHasAGlyph() {
        for ch in "0123456789 t=./-end" { #expect(BitmapFont.glyphs[ch] != nil, "\(ch)") }
        var image = RGBImage(width: 40, height: 7, pixels: [UInt8](repeating: 255, count: 40 * 7 * 3))
        BitmapFont.draw("8 t=.5", into: &image, x: 1, y: 1, scale: 1)
        #expect(image.pixels.contains(0))
        // "8" fills its 3×5 box except the two holes.
        let dark: [Bool] = (1..<6).flatMap { y in (1..<4).map { x in image.pixels[(y * 40 + x) * 3] == 0 } }
        #expect(dark.filter { !$0 }.count == 2)
    }
}
