import Foundation
import Testing
@testable import FiTKit

/// The pipeline a front end calls: a model file opened (``LoadedModel``), settings resolved in
/// order (``GenerationPlan``: the request, then a PNG's record, then the model's advice, then its
/// family's defaults), an image made and written with its record (``GenerationFiles``).
/// On the shipped emoji model, whose metadata recommends settings.
@Suite struct PipelineTests {
    static let loaded: LoadedModel = try! LoadedModel(path: EmbeddedModelParityTests.modelPath)

    @Test func nothingAskedTakesTheModelsAdvice() throws {
        let model = Self.loaded, advice = model.metadata.recommended
        let plan = try GenerationPlan(model: model, request: GenerationRequest(classLabel: "heart", seed: 3))
        #expect(plan.classID == 1 && plan.seed == 3)
        #expect(plan.sampler == advice.sampler && plan.steps == advice.steps && plan.cfg == advice.cfg)
        let size = try ImageGeometry.parse(try #require(advice.size))
        #expect(plan.width == size.width && plan.height == size.height)
        #expect(plan.grid.height == size.height / 4 && plan.grid.width == size.width / 4)
        #expect(plan.rope == advice.rope(height: plan.grid.height, width: plan.grid.width))
    }

    @Test func theRequestComesBeforeTheRecordAndTheRecordBeforeTheAdvice() throws {
        let model = Self.loaded
        let yarn = RoPEScaling(interpolation: .yarn, decouple: true)
        let recorded = try GenerationPlan(model: model, request: GenerationRequest(
            classLabel: "clock", width: 48, height: 32, steps: 7, sampler: .heun, cfg: 2.5, scalePow: 1, seed: 11, rope: .explicit(yarn)))
            .record(seed: 11)
        // The record alone makes the same plan again.
        let replay = try GenerationPlan(model: model, request: GenerationRequest(), record: recorded)
        #expect(replay.classID == 10 && replay.width == 48 && replay.height == 32 && replay.steps == 7 && replay.sampler == .heun)
        #expect(replay.cfg == 2.5 && replay.scalePow == 1 && replay.seed == 11 && replay.rope == yarn)
        #expect(replay.record(seed: 11) == recorded)
        // Each asked setting wins over the record, the rest stay.
        let changed = try GenerationPlan(model: model, request: GenerationRequest(classLabel: "flag", steps: 3, seed: 2, rope: .modelDefault),
                                         record: recorded)
        #expect(changed.classID == 11 && changed.steps == 3 && changed.seed == 2 && changed.rope == nil)
        #expect(changed.sampler == .heun && changed.width == 48 && changed.cfg == 2.5)
    }

    @Test func ropeChoicesResolveBySize() throws {
        let model = Self.loaded, advice = model.metadata.recommended
        for (w, h) in [(32, 32), (48, 48), (64, 32), (32, 64), (64, 64), (16, 16)] {
            let auto = try GenerationPlan(model: model, request: GenerationRequest(classLabel: "0", width: w, height: h))
            #expect(auto.rope == advice.rope(height: h / 4, width: w / 4), "\(w)x\(h)")
            let own = try GenerationPlan(model: model, request: GenerationRequest(classLabel: "0", width: w, height: h, rope: .modelDefault))
            #expect(own.rope == nil)
        }
        // Beyond the trained sizes the advice differs from the plain setting (the file says so).
        let inside = try GenerationPlan(model: model, request: GenerationRequest(classLabel: "0", width: 32, height: 32))
        let beyond = try GenerationPlan(model: model, request: GenerationRequest(classLabel: "0", width: 96, height: 96))
        #expect(inside.rope != beyond.rope)
    }

    @Test func badRequestsAreClearErrors() throws {
        let model = Self.loaded
        func message(_ request: GenerationRequest) -> String {
            do { _ = try GenerationPlan(model: model, request: request); return "" } catch { return "\(error)" }
        }
        #expect(message(GenerationRequest()).contains("no class given"))
        #expect(message(GenerationRequest(classLabel: "dragon")).contains("dragon"))
        #expect(message(GenerationRequest(classLabel: "99")).contains("99"))
        #expect(message(GenerationRequest(classLabel: "0", width: 33, height: 32)).contains("nearest valid sizes: 32x32, 36x32"))
        #expect(message(GenerationRequest(classLabel: "0", steps: 0)).contains("steps"))
    }

    @Test func sizesSnapToTheNearestTheModelCanMake() {
        let geometry = Self.loaded.geometry
        for v in -3...(geometry.maximumSide + 9) {
            let (w, h) = geometry.snapped(width: v, height: geometry.maximumSide + 20 - v)
            for side in [w, h] {
                #expect(side % geometry.sizeStep == 0 && (geometry.sizeStep...geometry.maximumSide).contains(side), "\(v)")
            }
            if (geometry.sizeStep...geometry.maximumSide).contains(v) { #expect(abs(w - v) * 2 <= geometry.sizeStep, "\(v)") }
            #expect((try? geometry.grid(width: w, height: h)) != nil)
        }
    }

    @Test func runMakesWhatTheTrajectoryAndDecoderMake() throws {
        let model = Self.loaded
        let plan = try GenerationPlan(model: model, request: GenerationRequest(classLabel: "smiley", steps: 3, seed: 5))
        var direct: TrajectoryStep?
        for step in try DenoisingTrajectory(model: model.model, parameters: plan.parameters(seed: 5)) { direct = step }
        let expected = try model.decoder.decode(try #require(direct).next, index: 0)
        var seen = 0, decodingNoted = false
        let result = try plan.run(onStep: { _ in seen += 1 }, onDecoding: { decodingNoted = seen == 3 })
        #expect(result.image == expected && seen == 3 && decodingNoted)
        #expect(result.record == plan.record(seed: 5))
        // Throwing from the step callback stops the run there.
        struct Stop: Error {}
        seen = 0
        #expect(throws: Stop.self) { _ = try plan.run(onStep: { _ in seen += 1; throw Stop() }) }
        #expect(seen == 1)
    }

    @Test func filesAreNumberedCarryTheirRecordsAndAreNeverOverwritten() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("fit-pipeline-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let plan = try GenerationPlan(model: Self.loaded, request: GenerationRequest(classLabel: "heart", steps: 2, seed: 40))
        let files = GenerationFiles(out: "\(folder)/heart.png", sheet: "\(folder)/sheet.png", scale: 2)
        try files.write(plan, count: 2)
        for seed: UInt64 in [40, 41] {
            let (image, text) = try PNGFile.read("\(folder)/heart-\(seed).png")
            #expect(image.width == plan.width * 2 && image.height == plan.height * 2)
            #expect(try GenerationRecord.from(pngText: text, path: "") == plan.record(seed: seed))
        }
        #expect(FileManager.default.fileExists(atPath: "\(folder)/sheet.png"))
        let before = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/heart-41.png"))
        #expect(throws: FiTError.self) { try files.write(plan, count: 2) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(folder)/heart-41.png")) == before)
    }
}
