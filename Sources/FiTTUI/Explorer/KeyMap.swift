/// Turns keys into explorer actions. Arrow keys and hjkl both work; while an overlay that takes
/// text is open, printable keys are typed into it.
enum KeyMap {
    static func action(for key: Key, in state: AppState, randomSeed: () -> UInt64) -> Action? {
        if case .classPicker = state.overlay { return textAction(key) }
        if case .prompt = state.overlay { return textAction(key) }
        if state.overlay == .help {
            switch key {
            case .character("q"): return .quit
            default: return .closeOverlay
            }
        }
        switch key {
        case .up, .character("k"): return .moveSelection(-1)
        case .down, .character("j"): return .moveSelection(1)
        case .left, .character("h"): return .adjust(-1)
        case .right, .character("l"): return .adjust(1)
        case .character("H"): return .adjust(-10)
        case .character("L"): return .adjust(10)
        case .pageUp: return state.focus == .canvas ? .step(-10) : .adjust(-10)
        case .pageDown: return state.focus == .canvas ? .step(10) : .adjust(10)
        case .home: return .jumpToStart
        case .end: return .jumpToEnd
        case .tab, .backTab: return .switchFocus
        case .enter:
            // Enter edits the row it is on; generation stays on g.
            guard state.focus == .settings else { return nil }
            if state.selectedSetting == .classLabel { return .openClassPicker }
            if Setting.typed.contains(state.selectedSetting) { return .openPrompt }
            return .adjust(1)
        case .character("g"): return .generate
        case .escape: return .cancel
        case .character(" "): return .togglePlay
        case .character("+"), .character("="): return .changeSpeed(1)
        case .character("-"): return .changeSpeed(-1)
        case .character("v"): return .cycleView
        case .character("c"): return .toggleCompare
        case .character("C"): return .cycleCompareDimension
        case .character("["): return .pickCompareValue(-1)
        case .character("]"): return .pickCompareValue(1)
        case .character("e"): return .export(.finalImage)
        case .character("s"): return .export(.contactSheet)
        case .character("p"): return .export(.currentStep)
        case .character("x"): return .cycleExportScale
        case .character("d"): return .decodeStep
        case .character("?"), .f1: return .toggleHelp
        case .character("/"): return .openClassPicker
        case .character("r"): return .randomizeSeed(randomSeed())
        case .character("n"): return .randomizeSeed(state.settings.seed &+ 1)
        case .character("N"): return .randomizeSeed(state.settings.seed == 0 ? 0 : state.settings.seed - 1)
        case .character("t"): return .cycleTheme
        case .character("q"): return .quit
        default: return nil
        }
    }

    private static func textAction(_ key: Key) -> Action? {
        switch key {
        case .escape: return .closeOverlay
        case .enter: return .confirm
        case .backspace: return .deleteBackward
        case .up: return .moveSelection(-1)
        case .down: return .moveSelection(1)
        case .character(let c): return .type(c)
        default: return nil
        }
    }
}
