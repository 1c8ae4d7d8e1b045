import Foundation
import FiTKit
import Testing
@testable import FiTTUI

/// The explorer's behaviour, without a terminal.
@Suite struct ReducerTests {
    static let model = ModelInfo(
        name: "test", classNames: ["smiley", "heart", "person", "hand"], samplers: [.euler, .heun, .dopri5, .sde],
        sizePresets: SizePreset.standard(nativeSide: 32, step: 4, maximumSide: 1024), sizeStep: 4, maximumSide: 1024,
        defaults: GenerationSettings(classID: 0, width: 32, height: 32, steps: 10, sampler: .euler, cfg: 4, seed: 7, extrapolation: .none))

    func frame(_ i: Int, count: Int = 3) -> StepFrame {
        StepFrame(index: i, count: count, t: Double(i) / Double(count), xt: RGBImage(width: 2, height: 2), x0: RGBImage(width: 2, height: 2))
    }

    @Test func settingsAreChosenAndAdjustedFromTheKeyboard() {
        var s = AppState(model: Self.model)
        _ = reduce(&s, .adjust(1))
        #expect(s.settings.classID == 1)
        _ = reduce(&s, .adjust(-2))
        #expect(s.settings.classID == 3) // wraps
        _ = reduce(&s, .moveSelection(2)) // steps
        _ = reduce(&s, .adjust(5))
        #expect(s.settings.steps == 15)
        _ = reduce(&s, .moveSelection(1)) // sampler
        _ = reduce(&s, .adjust(1))
        #expect(s.settings.sampler == .heun)
        _ = reduce(&s, .moveSelection(1)) // guidance
        _ = reduce(&s, .adjust(-10))
        #expect(s.settings.cfg == 1)
        _ = reduce(&s, .moveSelection(2)) // RoPE
        _ = reduce(&s, .adjust(1))
        #expect(s.settings.extrapolation == .visionNTK)
        _ = reduce(&s, .moveSelection(1)) // no wrapping: stays on the last row
        #expect(s.selectedSetting == .extrapolation)
        _ = reduce(&s, .moveSelection(-8)) // and stops at the first
        #expect(s.selectedSetting == .classLabel)
    }

    @Test func sizePresetsCoverTheAspectRatiosAtAndBeyondTheTrainingSize() {
        let labels = Self.model.sizePresets.map(\.label)
        #expect(labels.count == 16)
        #expect(labels.contains("1:1 32x32") && labels.contains("1:1 48x48") && labels.contains("2:1 44x24"))
        var s = AppState(model: Self.model)
        s.selectedSetting = .size
        _ = reduce(&s, .adjust(1))
        #expect((s.settings.width, s.settings.height) == (Self.model.sizePresets[1].width, Self.model.sizePresets[1].height))
    }

    @Test func aCustomSizeSnapsToAValidOne() {
        var s = AppState(model: Self.model)
        s.selectedSetting = .size
        _ = reduce(&s, .openPrompt)
        for ch in "50x31" { _ = reduce(&s, .type(ch)) }
        _ = reduce(&s, .confirm)
        #expect((s.settings.width, s.settings.height) == (52, 32))
        #expect(s.message.contains("snapped"))
        #expect(s.overlay == nil)
    }

    @Test func classPickerFiltersByNameAndId() {
        var s = AppState(model: Self.model)
        _ = reduce(&s, .openClassPicker)
        for ch in "ha" { _ = reduce(&s, .type(ch)) }
        #expect(s.filteredClasses("ha").map(\.name) == ["hand"])
        _ = reduce(&s, .confirm)
        #expect(s.settings.classID == 3)
        _ = reduce(&s, .openClassPicker)
        _ = reduce(&s, .type("1"))
        _ = reduce(&s, .confirm)
        #expect(s.settings.classID == 1)
    }

    @Test func generateStartsOneLaneAndStepsArriveInOrder() {
        var s = AppState(model: Self.model)
        let effects = reduce(&s, .generate)
        #expect(effects == [.cancelGeneration(through: 0), .startGeneration(generation: 1, lanes: [s.settings])])
        #expect(s.focus == .settings && s.isGenerating) // g does not move the focus
        s.focus = .canvas
        for i in 0..<3 { _ = reduce(&s, .stepArrived(generation: 1, lane: 0, frame: frame(i), stepsPerSecond: 2)) }
        #expect(s.position == 2) // follows the newest step
        _ = reduce(&s, .step(-1))
        #expect(s.position == 1)
        _ = reduce(&s, .stepArrived(generation: 0, lane: 0, frame: frame(9), stepsPerSecond: 2))
        #expect(s.lanes[0].frames.count == 3) // a stale generation is ignored
        let final = RGBImage(width: 2, height: 2, pixels: [UInt8](repeating: 200, count: 12))
        _ = reduce(&s, .laneFinished(generation: 1, lane: 0, final: final))
        #expect(!s.isGenerating && s.lanes[0].status == .done)
        #expect(!s.playing) // 2 steps/s is watchable: no replay
        #expect(!s.message.hasPrefix("done")) // the status word says "done" once
        _ = reduce(&s, .jumpToStart)
        #expect(s.position == 0)
        _ = reduce(&s, .jumpToEnd)
        // After the last step: the finished image, at the end time, x_t equal to x0.
        #expect(s.position == 3)
        let last = s.lanes[0].frames[3]
        #expect(last.isFinal && last.t == 1 && last.xt == final && last.x0 == final)
    }

    @Test func escapeCancelsAndChangingASettingThenGenerateStartsAnew() {
        var s = AppState(model: Self.model)
        _ = reduce(&s, .generate)
        _ = reduce(&s, .stepArrived(generation: 1, lane: 0, frame: frame(0), stepsPerSecond: 1))
        #expect(reduce(&s, .cancel) == [.cancelGeneration(through: 1)])
        #expect(s.lanes[0].status == .cancelled)
        s.focus = .settings
        _ = reduce(&s, .adjust(1))
        let effects = reduce(&s, .generate)
        #expect(effects.last == .startGeneration(generation: 2, lanes: [s.settings]))
        #expect(s.lanes[0].frames.isEmpty && s.settings.classID == 1)
    }

    @Test func playbackAdvancesOnTicksAndStopsAtTheEnd() {
        var s = AppState(model: Self.model)
        _ = reduce(&s, .generate)
        for i in 0..<3 { _ = reduce(&s, .stepArrived(generation: 1, lane: 0, frame: frame(i), stepsPerSecond: 1)) }
        _ = reduce(&s, .togglePlay)
        #expect(s.playing && s.position == 0) // replays from the start
        _ = reduce(&s, .tick(now: 1))
        _ = reduce(&s, .tick(now: 1.01)) // too soon
        #expect(s.position == 1)
        _ = reduce(&s, .tick(now: 2))
        _ = reduce(&s, .tick(now: 3))
        #expect(s.position == 2 && !s.playing)
        _ = reduce(&s, .changeSpeed(1))
        #expect(s.playbackInterval == 0.125)
    }

    @Test func compareRunsTwoLanesDifferingInOneSetting() {
        var s = AppState(model: Self.model)
        _ = reduce(&s, .toggleCompare)
        let effects = reduce(&s, .generate)
        guard case .startGeneration(_, let lanes) = effects.last else { Issue.record("no generation"); return }
        #expect(lanes.count == 2)
        #expect(lanes[0].extrapolation == .none && lanes[1].extrapolation == .visionNTK)
        #expect(lanes[0].seed == lanes[1].seed && lanes[0].classID == lanes[1].classID)
        _ = reduce(&s, .cycleCompareDimension) // guidance
        _ = reduce(&s, .generate)
        #expect(s.lanes.map(\.settings.cfg) == [4, 1])
        // Lockstep: the position only reaches steps both lanes have.
        _ = reduce(&s, .stepArrived(generation: 2, lane: 0, frame: frame(0), stepsPerSecond: 1))
        _ = reduce(&s, .stepArrived(generation: 2, lane: 0, frame: frame(1), stepsPerSecond: 1))
        _ = reduce(&s, .stepArrived(generation: 2, lane: 1, frame: frame(0), stepsPerSecond: 1))
        #expect(s.availableSteps == 1 && s.position == 0)
    }

    /// `auto` RoPE follows the model's advice for the size, says what it chose, and comparing
    /// RoPE modes sets the other lane to the next method after the one really used.
    @Test func autoRoPEFollowsTheModelsAdviceForTheSize() throws {
        var model = Self.model
        model.recommended = try JSONDecoder().decode(ModelMetadata.RecommendedSampling.self, from: Data(
            #"{"interpolation": "no", "extrapolation": {"interpolation": "dynntk", "decouple": true, "trained_tokens": 144, "trained_side": 16}}"#.utf8))
        model.defaults.extrapolation = .auto
        var s = AppState(model: model)
        #expect(s.display(.extrapolation) == "auto: none")
        #expect(model.rope(for: s.settings) == RoPEScaling(interpolation: .no))
        (s.settings.width, s.settings.height) = (64, 64)           // 16×16 tokens: beyond 144
        #expect(s.display(.extrapolation) == "auto: VisionNTK")
        #expect(model.rope(for: s.settings) == RoPEScaling(interpolation: .dynntk, decouple: true))
        (s.settings.width, s.settings.height) = (64, 32)           // 16×8: trained
        #expect(s.display(.extrapolation) == "auto: none")
        (s.settings.width, s.settings.height) = (64, 64)
        _ = reduce(&s, .toggleCompare)
        guard case .startGeneration(_, let lanes) = reduce(&s, .generate).last else { Issue.record("no generation"); return }
        #expect(lanes.map(\.extrapolation) == [.auto, .visionYaRN])
        // choosing a method by hand overrides the advice
        s.settings.extrapolation = .none
        #expect(model.rope(for: s.settings) == nil && s.display(.extrapolation) == "none")
    }

    @Test func exportNeedsSomethingToExport() {
        var s = AppState(model: Self.model)
        #expect(reduce(&s, .export(.finalImage)).isEmpty)
        #expect(s.message.contains("nothing to export"))
        _ = reduce(&s, .generate)
        _ = reduce(&s, .stepArrived(generation: 1, lane: 0, frame: frame(0), stepsPerSecond: 1))
        #expect(reduce(&s, .export(.finalImage)).isEmpty)
        #expect(reduce(&s, .export(.currentStep)) == [.export(.currentStep, step: 0)])
    }

    @Test func latentStepsAreDecodedOnRequestAndBeforeExport() {
        var latent = Self.model
        latent.previewsAreApproximate = true
        var s = AppState(model: latent)
        #expect(reduce(&s, .decodeStep).isEmpty)
        #expect(s.message.contains("no steps"))
        _ = reduce(&s, .generate)
        _ = reduce(&s, .stepArrived(generation: 1, lane: 0, frame: frame(0), stepsPerSecond: 1))
        _ = reduce(&s, .stepArrived(generation: 1, lane: 0, frame: frame(1, count: 2), stepsPerSecond: 1))
        #expect(s.message.contains("decoding the final image"))
        #expect(reduce(&s, .decodeStep) == [.decodeStep(generation: 1, lane: 0, index: 1)])
        let decoded = RGBImage(width: 16, height: 16)
        // A decode of an abandoned generation is dropped; the current one is kept.
        #expect(reduce(&s, .stepDecoded(generation: 0, lane: 0, index: 1, image: decoded)).isEmpty)
        #expect(s.lanes[0].frames[1].x0Decoded == nil)
        #expect(reduce(&s, .stepDecoded(generation: 1, lane: 0, index: 1, image: decoded)).isEmpty)
        #expect(s.lanes[0].frames[1].x0Decoded == decoded)
        #expect(reduce(&s, .decodeStep).isEmpty)
        #expect(s.message.contains("decoded already"))
        // Exporting an undecoded step decodes it first, then exports.
        _ = reduce(&s, .step(-1))
        #expect(reduce(&s, .export(.currentStep)) == [.decodeStep(generation: 1, lane: 0, index: 0)])
        #expect(s.pendingExport == PendingExport(kind: .currentStep, generation: 1, step: 0))
        // The export is of the step asked for, even after the view moved on.
        _ = reduce(&s, .step(1))
        #expect(reduce(&s, .stepDecoded(generation: 1, lane: 0, index: 0, image: decoded)) == [.export(.currentStep, step: 0)])
        #expect(s.pendingExport == nil)
        // A failed decode of an abandoned generation changes nothing; a new generation drops a waiting export.
        _ = reduce(&s, .step(-1))
        s.lanes[0].frames[0].x0Decoded = nil
        _ = reduce(&s, .export(.currentStep))
        #expect(reduce(&s, .decodeFailed(generation: 0, message: "old")).isEmpty && s.pendingExport != nil)
        _ = reduce(&s, .generate)
        #expect(s.pendingExport == nil)
        // A pixel model has nothing to decode.
        var pixel = AppState(model: Self.model)
        _ = reduce(&pixel, .generate)
        _ = reduce(&pixel, .stepArrived(generation: 1, lane: 0, frame: frame(0), stepsPerSecond: 1))
        #expect(reduce(&pixel, .decodeStep).isEmpty)
        #expect(reduce(&pixel, .export(.currentStep)) == [.export(.currentStep, step: 0)])
    }

    @Test func helpOverlayOpensAndAnyKeyClosesIt() {
        var s = AppState(model: Self.model)
        _ = reduce(&s, .toggleHelp)
        #expect(s.overlay == .help)
        _ = reduce(&s, .adjust(1))
        #expect(s.overlay == nil && s.settings.classID == 0)
        _ = reduce(&s, .toggleHelp)
        #expect(reduce(&s, .quit) == [.cancelGeneration(through: 0), .quit])
    }

    @Test func keysMapToActionsWithArrowsAndVimKeys() {
        let s = AppState(model: Self.model)
        for (key, action) in [(Key.up, Action.moveSelection(-1)), (.character("k"), .moveSelection(-1)), (.down, .moveSelection(1)),
                              (.character("j"), .moveSelection(1)), (.left, .adjust(-1)), (.character("h"), .adjust(-1)),
                              (.right, .adjust(1)), (.character("l"), .adjust(1)), (.character("g"), .generate), (.escape, .cancel),
                              (.character("?"), .toggleHelp), (.character("q"), .quit), (.enter, .openClassPicker)] {
            #expect(KeyMap.action(for: key, in: s, randomSeed: { 1 }) == action, "\(key)")
        }
        var picker = s
        picker.overlay = .classPicker(filter: "", selection: 0)
        #expect(KeyMap.action(for: .character("q"), in: picker, randomSeed: { 1 }) == .type("q"))
    }

    /// Enter edits the row it is on and never generates; on the canvas it does nothing.
    @Test(arguments: Setting.allCases)
    func enterEditsTheRowItIsOn(_ row: Setting) {
        var s = AppState(model: Self.model)
        s.selectedSetting = row
        let action = KeyMap.action(for: .enter, in: s, randomSeed: { 1 })
        switch row {
        case .classLabel: #expect(action == .openClassPicker)
        case .size, .steps, .guidance, .seed: #expect(action == .openPrompt)
        case .sampler, .extrapolation: #expect(action == .adjust(1))
        }
        #expect(action != .generate)
        s.focus = .canvas
        #expect(KeyMap.action(for: .enter, in: s, randomSeed: { 1 }) == nil)
    }

    @Test func stepsAndGuidanceCanBeTyped() {
        var s = AppState(model: Self.model)
        s.selectedSetting = .steps
        _ = reduce(&s, .openPrompt)
        for ch in "42" { _ = reduce(&s, .type(ch)) }
        _ = reduce(&s, .confirm)
        #expect(s.settings.steps == 42)
        s.selectedSetting = .guidance
        _ = reduce(&s, .openPrompt)
        for ch in "2.5" { _ = reduce(&s, .type(ch)) }
        _ = reduce(&s, .confirm)
        #expect(s.settings.cfg == 2.5)
        _ = reduce(&s, .openPrompt)
        for ch in "99" { _ = reduce(&s, .type(ch)) }
        _ = reduce(&s, .confirm)
        #expect(s.settings.cfg == 2.5 && s.message.contains("1…20"))
    }

    /// A run faster than the playback pace is played once afterwards, unless the user stepped.
    @Test func aFastRunIsReplayedOnceAtAWatchablePace() {
        for stepped in [false, true] {
            var s = AppState(model: Self.model)
            _ = reduce(&s, .generate)
            for i in 0..<3 { _ = reduce(&s, .stepArrived(generation: 1, lane: 0, frame: frame(i), stepsPerSecond: 60)) }
            if stepped { _ = reduce(&s, .step(-1)) }
            _ = reduce(&s, .laneFinished(generation: 1, lane: 0, final: RGBImage(width: 2, height: 2)))
            #expect(s.playing == !stepped, "stepped: \(stepped)")
            guard !stepped else { continue }
            #expect(s.position == 0)
            var now = 100.0
            for _ in 0..<10 { now += s.playbackInterval; _ = reduce(&s, .tick(now: now)) }
            #expect(!s.playing && s.position == 3 && s.lanes[0].frames[s.position].isFinal) // once, ending on the finished image
        }
    }

    @Test func theHintBarDropsTheLeastImportantHintsFirst() {
        for width in ScreenComposer.minimumColumns...220 {
            let hints = KeyMap.hints(fitting: width)
            #expect(hints.count + 1 <= width, "\(width)")
            for essential in ["g generate", "q quit", "? help"] { #expect(hints.contains(essential), "\(width): \(essential)") }
        }
        #expect(KeyMap.hints(fitting: 70).contains("e/s/p export"))
        #expect(KeyMap.hints(fitting: 200).contains("v view"))
    }

    /// An open overlay takes the keys, not the clock or the worker: help stays open during
    /// playback, and steps arriving while the class list is open are kept.
    @Test func overlaysDoNotSwallowTicksOrSteps() {
        var s = AppState(model: Self.model)
        _ = reduce(&s, .generate)
        _ = reduce(&s, .openClassPicker)
        for i in 0..<3 { _ = reduce(&s, .stepArrived(generation: 1, lane: 0, frame: frame(i), stepsPerSecond: 2)) }
        #expect(s.lanes[0].frames.count == 3 && s.overlay != nil)
        _ = reduce(&s, .closeOverlay)
        _ = reduce(&s, .togglePlay)
        _ = reduce(&s, .toggleHelp)
        _ = reduce(&s, .tick(now: 1000))
        _ = reduce(&s, .resize(columns: 100, rows: 30))
        #expect(s.overlay == .help && s.position == 1)
    }

    /// [ ] picks the other lane's value among every value that differs, for each dimension.
    @Test(arguments: CompareDimension.allCases)
    func theOtherLanesValueIsPicked(_ dimension: CompareDimension) {
        var s = AppState(model: Self.model)
        #expect(reduce(&s, .pickCompareValue(1)).isEmpty && s.message.contains("compare first"))
        while s.compareDimension != dimension { _ = reduce(&s, .cycleCompareDimension) }
        _ = reduce(&s, .toggleCompare)
        let choices = compareChoices(s)
        #expect(choices.count >= 1 && !choices.contains(s.settings))
        var seen: [GenerationSettings] = []
        for _ in 0..<choices.count {
            let lanes = laneSettings(s)
            #expect(lanes.count == 2 && lanes[0].settings == s.settings && lanes[1].settings != s.settings)
            #expect(lanes[0].label != lanes[1].label, "\(lanes.map(\.label))")
            seen.append(lanes[1].settings)
            _ = reduce(&s, .pickCompareValue(1))
        }
        #expect(seen == choices) // every choice, once, in order
        #expect(laneSettings(s)[1].settings == choices[0]) // and around again
        _ = reduce(&s, .pickCompareValue(-1))
        #expect(laneSettings(s)[1].settings == choices.last)
    }

    @Test func comparedExportsSayWhatDiffers() {
        #expect(Exporter.fileNamePart("auto: none") == "auto-none")
        #expect(Exporter.fileNamePart("VisionNTK+attn") == "VisionNTK+attn")
        #expect(Exporter.fileNamePart("cfg 4.0") == "cfg-4.0")
        #expect(Exporter.fileNamePart("64x64") == "64x64")
    }

    @Test func exportEnlargementCycles() {
        var s = AppState(model: Self.model)
        var seen: [Int] = []
        for _ in 0..<5 { _ = reduce(&s, KeyMap.action(for: .character("x"), in: s, randomSeed: { 1 })!); seen.append(s.exportScale) }
        #expect(seen == [2, 4, 8, 1, 2])
    }

    /// The help and the hint bar come from the key table, and every key in it does something.
    @Test func everyKeyInTheTableActsAndIsInTheHelp() {
        var s = AppState(model: Self.model)
        s.selectedSetting = .size
        for binding in KeyMap.bindings {
            for key in binding.keys {
                #expect(KeyMap.action(for: key, in: s, randomSeed: { 5 }) != nil, "\(key) (\(binding.label))")
            }
            #expect(KeyMap.helpLines.contains { $0.contains(binding.help) && $0.hasPrefix(binding.label) }, "\(binding.label)")
        }
        for hint in KeyMap.bindings.compactMap(\.hint) { #expect(KeyMap.hints(fitting: 500).contains(hint.text)) }
    }
}
