import FiTKit
import Testing
@testable import FiTTUI

/// The reducer never traps: every key on every settings row, and long seeded random sequences of
/// every action from many states (overlays, compare, a running generation).
@Suite struct ReducerSweepTests {
    static let keys: [Key] = [.up, .down, .left, .right, .home, .end, .pageUp, .pageDown, .enter, .escape, .backspace,
                              .tab, .backTab, .f1, .resize]
        + "kjhlHLgvcCespdx?/rnNt+-= qX0[]".map { Key.character($0) }

    @Test func everyKeyOnEverySettingsRow() {
        for setting in Setting.allCases {
            for key in Self.keys {
                for repeats in [1, 3, 25] {
                    var s = AppState(model: ReducerTests.model)
                    s.selectedSetting = setting
                    for _ in 0..<repeats {
                        if let action = KeyMap.action(for: key, in: s, randomSeed: { 42 }) { _ = reduce(&s, action) }
                    }
                    s.checkInvariants("\(setting) \(key) ×\(repeats)")
                }
            }
        }
    }

    @Test func everyAdjustmentOfEverySettingStaysInRange() {
        for setting in Setting.allCases {
            for delta in [-1000, -11, -10, -9, -2, -1, 1, 2, 9, 10, 11, 1000] {
                var s = AppState(model: ReducerTests.model)
                s.selectedSetting = setting
                for _ in 0..<5 { _ = reduce(&s, .adjust(delta)) }
                s.checkInvariants("\(setting) \(delta)")
            }
        }
    }

    /// 10,000 random actions per seed; a failure names the seed and the action.
    @Test(arguments: [1, 2, 3, 20251205] as [UInt64])
    func randomActionSequencesKeepTheStateValid(seed: UInt64) {
        var rng = SplitMix(seed: seed)
        var s = AppState(model: ReducerTests.model)
        var generation = 0
        for i in 0..<10_000 {
            let action = Self.randomAction(&rng, state: s)
            for effect in reduce(&s, action) {
                if case .startGeneration(let g, _) = effect { generation = g }
            }
            // the worker's side: steps and finals of the current generation arrive now and then
            if s.isGenerating, rng.next() % 3 == 0 {
                let count = s.settings.steps
                for lane in s.lanes.indices where s.lanes[lane].frames.count < count {
                    let index = s.lanes[lane].frames.count
                    _ = reduce(&s, .stepArrived(generation: generation, lane: lane,
                                                frame: StepFrame(index: index, count: count, t: Double(index) / Double(count),
                                                                 xt: RGBImage(width: 2, height: 2), x0: RGBImage(width: 2, height: 2)),
                                                stepsPerSecond: 10))
                    if index + 1 == count { _ = reduce(&s, .laneFinished(generation: generation, lane: lane, final: RGBImage(width: 2, height: 2))) }
                }
            }
            s.checkInvariants("seed \(seed), action \(i): \(action)")
            if s.quitting { s = AppState(model: ReducerTests.model) }
        }
    }

    static func randomAction(_ rng: inout SplitMix, state: AppState) -> Action {
        let deltas = [-1000, -10, -3, -1, 1, 3, 10, 1000]
        let delta = deltas[Int(rng.next() % UInt64(deltas.count))]
        switch rng.next() % 24 {
        case 0: return .moveSelection(delta)
        case 1, 2: return .adjust(delta)
        case 3: return .switchFocus
        case 4: return .generate
        case 5: return .cancel
        case 6: return .step(delta)
        case 7: return rng.next() % 2 == 0 ? .jumpToStart : .jumpToEnd
        case 8: return .togglePlay
        case 9: return .changeSpeed(delta)
        case 10: return rng.next() % 2 == 0 ? .cycleView : .toggleCompare
        case 11: return rng.next() % 2 == 0 ? .cycleCompareDimension : .pickCompareValue(delta)
        case 12: return .toggleHelp
        case 13: return rng.next() % 2 == 0 ? .openClassPicker : .openPrompt
        case 14: return .type(Array("0123456789xX abc-")[Int(rng.next() % 17)])
        case 15: return rng.next() % 2 == 0 ? .deleteBackward : .confirm
        case 16: return .closeOverlay
        case 17: return .randomizeSeed(rng.next())
        case 18: return .cycleTheme
        case 19: return .resize(columns: Int(rng.next() % 300), rows: Int(rng.next() % 100))
        case 20: return .tick(now: Double(rng.next() % 100_000) / 10)
        case 21: return .decodeStep
        case 22: return rng.next() % 50 == 0 ? .quit : .export(.currentStep)
        default:
            if let key = Self.keys.randomElement(using: &rng), let action = KeyMap.action(for: key, in: state, randomSeed: { 7 }) {
                return action
            }
            return .cancel
        }
    }
}

/// A small seeded generator for reproducible random tests.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension AppState {
    /// What must hold after any action.
    func checkInvariants(_ context: String) {
        let m = model
        #expect(settings.classID >= 0 && settings.classID < max(m.classNames.count, 1), "\(context): class \(settings.classID)")
        #expect(settings.width >= m.sizeStep && settings.width <= m.maximumSide && settings.width % m.sizeStep == 0, "\(context): width")
        #expect(settings.height >= m.sizeStep && settings.height <= m.maximumSide && settings.height % m.sizeStep == 0, "\(context): height")
        #expect(settings.steps >= 1 && settings.steps <= 1000, "\(context): steps \(settings.steps)")
        #expect(m.samplers.contains(settings.sampler), "\(context): sampler")
        #expect(settings.cfg >= 1 && settings.cfg <= 20, "\(context): cfg \(settings.cfg)")
        #expect(position >= 0 && (availableSteps == 0 || position < availableSteps), "\(context): position \(position) of \(availableSteps)")
        #expect(Setting.allCases.contains(selectedSetting), "\(context)")
        #expect(themeIndex >= 0 && themeIndex < max(themeNames.count, 1), "\(context): theme")
    }
}
