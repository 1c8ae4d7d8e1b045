/// The explorer's keys: one table that maps keys to actions and from which the help overlay and
/// the hint bar are written, so that what they say is what the keys do. Arrow keys and hjkl both
/// work; while an overlay that takes text is open, printable keys are typed into it.
enum KeyMap {
    /// One row of the table.
    struct Binding: Sendable {
        /// The keys, in the order tried.
        let keys: [Key]
        /// How the help overlay names the keys.
        let label: String
        /// What the keys do, for the help overlay.
        let help: String
        /// The hint bar's text for them and its rank (lower = kept longer on a narrow terminal).
        var hint: (text: String, rank: Int)? = nil
        /// The action of one of `keys` in a state (`randomSeed` draws a seed for `r`); `nil` = nothing.
        let action: @Sendable (Key, AppState, () -> UInt64) -> Action?
    }

    private static func chars(_ s: String) -> [Key] { s.map { Key.character($0) } }

    /// Every binding, in the help overlay's order.
    static let bindings: [Binding] = [
        Binding(keys: chars("g"), label: "g", help: "generate (changing a setting + g starts anew)", hint: ("g generate", 0)) { _, _, _ in .generate },
        Binding(keys: [.tab, .backTab], label: "Tab", help: "focus: settings ↔ canvas (◆ marks which)",
                hint: ("Tab focus", 3)) { _, _, _ in .switchFocus },
        Binding(keys: [.up, .character("k")], label: "↑ k", help: "previous setting, stopping at the top (canvas: step back)") { _, _, _ in .moveSelection(-1) },
        Binding(keys: [.down, .character("j")], label: "↓ j", help: "next setting, stopping at the bottom (canvas: step forward)") { _, _, _ in .moveSelection(1) },
        Binding(keys: [.left, .character("h")], label: "← h", help: "change the setting down (canvas: one step back)",
                hint: ("←→ step", 7)) { _, _, _ in .adjust(-1) },
        Binding(keys: [.right, .character("l")], label: "→ l", help: "change the setting up (canvas: one step forward)") { _, _, _ in .adjust(1) },
        Binding(keys: chars("HL"), label: "H L", help: "change by ten") { key, _, _ in .adjust(key == .character("H") ? -10 : 10) },
        Binding(keys: [.pageUp, .pageDown], label: "PgUp PgDn", help: "change by ten (canvas: ten steps)") { key, state, _ in
            let delta = key == .pageUp ? -10 : 10
            return state.focus == .canvas ? .step(delta) : .adjust(delta)
        },
        Binding(keys: [.home, .end], label: "Home End", help: "first step / the finished image") { key, _, _ in key == .home ? .jumpToStart : .jumpToEnd },
        Binding(keys: [.enter], label: "Enter", help: "edit this row: class list, type size/steps/guidance/seed, next sampler/RoPE") { _, state, _ in
            // Enter edits the row it is on; generation stays on g.
            guard state.focus == .settings else { return nil }
            if state.selectedSetting == .classLabel { return .openClassPicker }
            if Setting.typed.contains(state.selectedSetting) { return .openPrompt }
            return .adjust(1)
        },
        Binding(keys: chars("/"), label: "/", help: "class list with type-to-filter") { _, _, _ in .openClassPicker },
        Binding(keys: [.escape], label: "Esc", help: "cancel the generation / close this", hint: ("Esc cancel", 6)) { _, _, _ in .cancel },
        Binding(keys: chars(" "), label: "space", help: "play / replay the trajectory", hint: ("space play", 4)) { _, _, _ in .togglePlay },
        Binding(keys: chars("+=-"), label: "+ -", help: "playback faster / slower") { key, _, _ in .changeSpeed(key == .character("-") ? -1 : 1) },
        Binding(keys: chars("v"), label: "v", help: "view: x0 estimate, noisy x_t, both", hint: ("v view", 9)) { _, _, _ in .cycleView },
        Binding(keys: chars("c"), label: "c", help: "compare two settings side by side", hint: ("c compare", 8)) { _, _, _ in .toggleCompare },
        Binding(keys: chars("C"), label: "C", help: "which setting the comparison varies") { _, _, _ in .cycleCompareDimension },
        Binding(keys: chars("[]"), label: "[ ]", help: "the other lane's value") { key, _, _ in .pickCompareValue(key == .character("[") ? -1 : 1) },
        Binding(keys: chars("r"), label: "r", help: "random seed") { _, _, seed in .randomizeSeed(seed()) },
        Binding(keys: chars("nN"), label: "n N", help: "next / previous seed") { key, state, _ in
            let seed = state.settings.seed
            return .randomizeSeed(key == .character("n") ? seed &+ 1 : (seed == 0 ? 0 : seed - 1))
        },
        Binding(keys: chars("e"), label: "e", help: "export the final PNG", hint: ("e/s/p export", 5)) { _, _, _ in .export(.finalImage) },
        Binding(keys: chars("s"), label: "s", help: "export the contact sheet") { _, _, _ in .export(.contactSheet) },
        Binding(keys: chars("p"), label: "p", help: "export the current step") { _, _, _ in .export(.currentStep) },
        Binding(keys: chars("x"), label: "x", help: "export enlargement ×1 ×2 ×4 ×8") { _, _, _ in .cycleExportScale },
        Binding(keys: chars("d"), label: "d", help: "decode this step with the VAE (latent models)") { _, _, _ in .decodeStep },
        Binding(keys: chars("t"), label: "t", help: "next theme") { _, _, _ in .cycleTheme },
        Binding(keys: chars("?") + [.f1], label: "? F1", help: "this help", hint: ("? help", 2)) { _, _, _ in .toggleHelp },
        Binding(keys: chars("q"), label: "q", help: "quit", hint: ("q quit", 1)) { _, _, _ in .quit },
    ]

    /// The action of `key` in `state`, from the table (overlays that take text come first).
    static func action(for key: Key, in state: AppState, randomSeed: () -> UInt64) -> Action? {
        if case .classPicker = state.overlay { return textAction(key) }
        if case .prompt = state.overlay { return textAction(key) }
        if state.overlay == .help { return key == .character("q") ? .quit : .closeOverlay }
        return bindings.first { $0.keys.contains(key) }?.action(key, state, randomSeed)
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

    /// The help overlay's lines, from the table.
    static var helpLines: [String] {
        ["Keys", ""] + bindings.map { $0.label.padding(toLength: 11, withPad: " ", startingAt: 0) + "  " + $0.help }
    }

    /// The hints that fit in `width` columns (one leading space), least important dropped first,
    /// in the table's order.
    static func hints(fitting width: Int) -> String {
        let all = bindings.compactMap(\.hint)
        var kept = all.sorted { $0.rank < $1.rank }
        func line() -> String { all.filter { h in kept.contains { $0.text == h.text } }.map(\.text).joined(separator: "  ") }
        while !kept.isEmpty && 1 + line().count > width { kept.removeLast() }
        return line()
    }
}
