import FiTKit

/// The explorer's behaviour: applies `action` to `state` and returns the side effects to run.
/// Pure — no terminal, files or threads.
func reduce(_ state: inout AppState, _ action: Action) -> [Effect] {
    if action.isFromUser, let overlay = state.overlay, let effects = reduceOverlay(&state, overlay, action) { return effects }
    switch action {
    case .moveSelection(let delta):
        if state.focus == .settings {
            // No wrapping: Up at the top stays at the top.
            let all = Setting.allCases
            state.selectedSetting = all[min(max(state.selectedSetting.rawValue + delta, 0), all.count - 1)]
        } else {
            return reduce(&state, .step(delta))
        }
    case .adjust(let delta):
        if state.focus == .canvas { return reduce(&state, .step(delta)) }
        adjust(&state, state.selectedSetting, by: delta)
    case .switchFocus:
        state.focus = state.focus == .settings ? .canvas : .settings
        state.message = state.focus == .canvas ? "canvas: ←→ step · Home End · space play · Tab: settings"
                                               : "settings: ↑↓ choose · ←→ change · Enter edit · Tab: canvas"
    case .generate:
        state.generation += 1
        state.pendingExport = nil
        state.lanes = laneSettings(state).map { Lane(settings: $0.settings, label: $0.label) }
        state.position = 0
        state.followLatest = true
        state.playing = false
        state.message = state.focus == .settings ? "generating… (Tab: the canvas, to step through it)" : "generating…"
        return [.cancelGeneration(through: state.generation - 1),
                .startGeneration(generation: state.generation, lanes: state.lanes.map(\.settings))]
    case .cancel:
        guard state.isGenerating else { return [] }
        for i in state.lanes.indices where state.lanes[i].status == .running { state.lanes[i].status = .cancelled }
        state.message = "cancelled at step \(state.availableSteps)"
        return [.cancelGeneration(through: state.generation)]
    case .step(let delta):
        guard state.availableSteps > 0 else { return [] }
        state.position = min(max(state.position + delta, 0), state.availableSteps - 1)
        state.followLatest = state.position == state.availableSteps - 1
        state.playing = false
    case .jumpToStart:
        state.position = 0
        state.followLatest = false
        state.playing = false
    case .jumpToEnd:
        state.position = max(state.availableSteps - 1, 0)
        state.followLatest = true
        state.playing = false
    case .togglePlay:
        guard state.availableSteps > 1 else { return [] }
        state.playing.toggle()
        if state.playing && state.position >= state.availableSteps - 1 { state.position = 0 }
        state.followLatest = false
    case .changeSpeed(let delta):
        state.playbackInterval = min(max(state.playbackInterval * (delta > 0 ? 0.5 : 2), 0.02), 2)
        state.message = String(format: "playback: %.0f steps/s", 1 / state.playbackInterval)
    case .tick(let now):
        guard state.playing else { return [] }
        if now - state.lastAdvance >= state.playbackInterval {
            state.lastAdvance = now
            if state.position < state.availableSteps - 1 { state.position += 1 } else { state.playing = false }
        }
    case .cycleView:
        let all = ViewMode.allCases
        state.view = all.cycled(from: state.view, by: 1)
    case .toggleCompare:
        state.compare = state.compare == nil ? state.compareDimension : nil
        state.message = state.compare.map { "compare: \($0.rawValue) — press g to run both" } ?? "compare off"
    case .cycleCompareDimension:
        let all = CompareDimension.allCases
        state.compareDimension = all.cycled(from: state.compareDimension, by: 1)
        state.compareChoice = 0
        if state.compare != nil { state.compare = state.compareDimension }
        state.message = "compare varies \(state.compareDimension.rawValue) · [ ]: the other lane's value"
    case .pickCompareValue(let delta):
        guard state.compare != nil else { state.message = "c: compare first, then [ ] picks the other lane's value"; return [] }
        let count = compareChoices(state).count
        guard count > 0 else { state.message = "nothing else to compare \(state.compareDimension.rawValue) with"; return [] }
        state.compareChoice = state.compareChoice.wrapped(adding: delta, count: count)
        let lanes = laneSettings(state)
        state.message = "compare: \(lanes[0].label) vs \(lanes[1].label) — press g to run both"
    case .export(let kind):
        guard let lane = state.lanes.first else { state.message = "nothing to export yet: press g"; return [] }
        if kind == .finalImage && lane.final == nil { state.message = "the final image is not there yet"; return [] }
        if kind != .finalImage && lane.frames.isEmpty { state.message = "no steps yet"; return [] }
        let index = max(0, min(state.position, lane.frames.count - 1))
        if kind == .currentStep && state.model.previewsAreApproximate && lane.frames[index].x0Decoded == nil {
            // A latent model's step is written as the VAE decode: decode first, export when it arrives.
            state.pendingExport = PendingExport(kind: kind, generation: state.generation, step: index)
            state.message = "decoding step \(index + 1) with the VAE before exporting…"
            return [.decodeStep(generation: state.generation, lane: 0, index: index)]
        }
        return [.export(kind, step: index)]
    case .cycleExportScale:
        state.exportScale = [1, 2, 4, 8].cycled(from: state.exportScale, by: 1)
        state.message = "exports enlarged ×\(state.exportScale)"
    case .decodeStep:
        guard state.model.previewsAreApproximate else { state.message = "this model's steps are exact pictures already"; return [] }
        guard state.availableSteps > 0 else { state.message = "no steps yet: press g"; return [] }
        let index = min(state.position, state.availableSteps - 1)
        let wanted = state.lanes.indices.filter { state.lanes[$0].frames[index].x0Decoded == nil }
        guard !wanted.isEmpty else { state.message = "step \(index + 1) is decoded already"; return [] }
        state.message = "decoding step \(index + 1) with the VAE…"
        return wanted.map { .decodeStep(generation: state.generation, lane: $0, index: index) }
    case .toggleHelp:
        state.overlay = .help
    case .openClassPicker:
        state.overlay = .classPicker(filter: "", selection: 0)
    case .openPrompt:
        guard Setting.typed.contains(state.selectedSetting) else { return [] }
        state.overlay = .prompt(state.selectedSetting, text: "")
    case .randomizeSeed(let seed):
        state.settings.seed = seed
        state.message = "seed \(seed)"
    case .cycleTheme:
        state.themeIndex = state.themeIndex.wrapped(adding: 1, count: state.themeNames.count)
        state.message = "theme: \(state.themeNames[state.themeIndex])"
    case .resize(let columns, let rows):
        state.columns = columns
        state.rows = rows
    case .quit:
        state.quitting = true
        return [.cancelGeneration(through: state.generation), .quit]
    case .stepArrived(let generation, let lane, let frame, let rate):
        guard generation == state.generation, state.lanes.indices.contains(lane) else { return [] }
        state.lanes[lane].frames.append(frame)
        state.lanes[lane].stepsPerSecond = rate
        if state.followLatest { state.position = max(state.availableSteps - 1, 0) }
        if state.model.previewsAreApproximate, let count = frame.count, frame.index + 1 == count {
            state.message = "decoding the final image with the VAE…"
        }
    case .laneFinished(let generation, let lane, let final):
        guard generation == state.generation, state.lanes.indices.contains(lane) else { return [] }
        let l = state.lanes[lane]
        state.lanes[lane].final = final
        state.lanes[lane].status = .done
        state.lanes[lane].frames.append(.final(final, steps: l.frames.count, flow: l.settings.sampler.isFlow))
        if state.followLatest { state.position = max(state.availableSteps - 1, 0) }
        if !state.isGenerating {
            state.message = "e: export PNG · s: contact sheet · space: replay"
            // Too fast to watch (and not stepped through meanwhile): play it once at a watchable pace.
            let fastest = state.lanes.map(\.stepsPerSecond).min() ?? 0
            if state.followLatest && state.availableSteps > 2 && fastest * state.playbackInterval > 1 {
                state.playing = true
                state.position = 0
                state.lastAdvance = 0
                state.message = "e: export PNG · s: contact sheet · replaying once (a step key stops it)"
            }
        }
    case .laneFailed(let generation, let lane, let message):
        guard generation == state.generation, state.lanes.indices.contains(lane) else { return [] }
        state.lanes[lane].status = .failed(message)
        state.message = "error: \(message)"
    case .stepDecoded(let generation, let lane, let index, let image):
        guard generation == state.generation, state.lanes.indices.contains(lane),
              state.lanes[lane].frames.indices.contains(index) else { return [] }
        state.lanes[lane].frames[index].x0Decoded = image
        state.message = "step \(index + 1): x0 decoded with the VAE"
        if lane == 0, let pending = state.pendingExport, pending.generation == generation, pending.step == index {
            state.pendingExport = nil
            return [.export(pending.kind, step: index)]
        }
    case .decodeFailed(let generation, let message):
        guard generation == state.generation else { return [] }
        state.pendingExport = nil
        state.message = "VAE decode failed: \(message)"
    case .exported(let path):
        state.message = "wrote \(path)"
    case .exportFailed(let message):
        state.message = "export failed: \(message)"
    case .type, .deleteBackward, .confirm, .closeOverlay:
        break
    }
    return []
}

/// Keys while an overlay is open; `nil` lets the action through to the main reducer.
private func reduceOverlay(_ state: inout AppState, _ overlay: Overlay, _ action: Action) -> [Effect]? {
    switch (overlay, action) {
    case (_, .closeOverlay), (.help, .toggleHelp):
        state.overlay = nil
        return []
    case (.help, .quit):
        return nil
    case (.help, _):
        state.overlay = nil
        return []
    case (.classPicker(let filter, let selection), _):
        let matches = state.filteredClasses(filter)
        switch action {
        case .type(let ch): state.overlay = .classPicker(filter: filter + String(ch), selection: 0)
        case .deleteBackward: state.overlay = .classPicker(filter: String(filter.dropLast()), selection: 0)
        case .moveSelection(let d), .adjust(let d):
            state.overlay = .classPicker(filter: filter, selection: min(max(selection + d, 0), max(matches.count - 1, 0)))
        case .confirm:
            if matches.indices.contains(selection) { state.settings.classID = matches[selection].id }
            state.overlay = nil
        default: break
        }
        return []
    case (.prompt(let setting, let text), _):
        switch action {
        case .type(let ch): state.overlay = .prompt(setting, text: text + String(ch))
        case .deleteBackward: state.overlay = .prompt(setting, text: String(text.dropLast()))
        case .confirm:
            state.overlay = nil
            applyPrompt(&state, setting, text)
        default: break
        }
        return []
    }
}

private func applyPrompt(_ state: inout AppState, _ setting: Setting, _ text: String) {
    switch setting {
    case .size:
        guard let (w, h) = try? ImageGeometry.parse(text) else { state.message = "size '\(text)' is not WxH"; return }
        let (sw, sh) = state.model.snapped(width: w, height: h)
        (state.settings.width, state.settings.height) = (sw, sh)
        state.message = sw == w && sh == h ? "size \(sw)x\(sh)" : "size \(w)x\(h) snapped to \(sw)x\(sh)"
    case .seed:
        guard let seed = UInt64(text) else { state.message = "seed '\(text)' is not a number"; return }
        state.settings.seed = seed
    case .steps:
        let minimum = state.settings.sampler == .sde ? 2 : 1
        guard let steps = Int(text), (minimum...1000).contains(steps) else { state.message = "steps '\(text)': give a whole number in \(minimum)…1000"; return }
        state.settings.steps = steps
    case .guidance:
        guard let cfg = Double(text), cfg.isFinite, (1...20).contains(cfg) else { state.message = "guidance '\(text)': give a number in 1…20"; return }
        state.settings.cfg = cfg
    default:
        break
    }
}

/// Changes one setting by `delta` notches.
private func adjust(_ state: inout AppState, _ setting: Setting, by delta: Int) {
    var s = state.settings
    switch setting {
    case .classLabel:
        let n = max(state.model.classNames.count, 1)
        s.classID = s.classID.wrapped(adding: delta, count: n)
    case .size:
        let presets = state.model.sizePresets
        let current = presets.firstIndex { $0.width == s.width && $0.height == s.height } ?? -1
        let next = current.wrapped(adding: delta, count: presets.count)
        (s.width, s.height) = (presets[next].width, presets[next].height)
    case .steps:
        s.steps = min(max(s.steps + delta, s.sampler == .sde ? 2 : 1), 1000)
    case .sampler:
        let all = state.model.samplers
        s.sampler = all.cycled(from: s.sampler, by: delta)
        if s.sampler == .sde { s.steps = max(s.steps, 2) }
    case .guidance:
        s.cfg = min(max((s.cfg + 0.5 * Double(delta)) * 2, 2).rounded() / 2, 20)
    case .seed:
        // Saturating at 0 and UInt64.max (a random seed may use all 64 bits).
        let step = UInt64(delta.magnitude)
        s.seed = delta >= 0 ? (UInt64.max - s.seed < step ? .max : s.seed + step) : (s.seed < step ? 0 : s.seed - step)
    case .extrapolation:
        let all = Extrapolation.allCases
        s.extrapolation = all.cycled(from: s.extrapolation, by: delta)
    }
    state.settings = s
}

/// The values the other lane can take for the compared setting, in picking order (the first is
/// the default): every value that differs from what the settings' lane really uses.
func compareChoices(_ state: AppState) -> [GenerationSettings] {
    let base = state.settings
    var choices: [GenerationSettings] = []
    func add(_ change: (inout GenerationSettings) -> Void) {
        var other = base
        change(&other)
        if other.sampler == .sde { other.steps = max(other.steps, 2) }
        if other != base { choices.append(other) }
    }
    switch state.compare ?? state.compareDimension {
    case .extrapolation:
        // Starting after the method this lane really uses (`auto` resolved).
        let explicit = Extrapolation.allCases.filter { $0 != .auto }
        let used = state.model.resolvedExtrapolation(base) ?? .none
        for i in 1..<explicit.count { add { $0.extrapolation = explicit.cycled(from: used, by: i) } }
    case .guidance:
        for cfg in (base.cfg > 1 ? [1.0] : []) + [1.5, 2, 3, 4, 6, 8].filter({ $0 != base.cfg }) { add { $0.cfg = cfg } }
    case .sampler:
        let all = state.model.samplers
        for i in 1..<max(all.count, 1) { add { $0.sampler = all.cycled(from: base.sampler, by: i) } }
    case .resolution:
        let doubled = state.model.snapped(width: base.width * 2, height: base.height * 2)
        add { ($0.width, $0.height) = doubled }
        for preset in state.model.sizePresets where (preset.width, preset.height) != doubled {
            add { ($0.width, $0.height) = (preset.width, preset.height) }
        }
    }
    return choices
}

/// The lanes a generation runs: the settings, plus the chosen variant when comparing.
func laneSettings(_ state: AppState) -> [(settings: GenerationSettings, label: String)] {
    let base = state.settings
    guard let dimension = state.compare else { return [(base, "")] }
    let choices = compareChoices(state)
    guard !choices.isEmpty else { return [(base, "")] }
    let other = choices[state.compareChoice.wrapped(adding: 0, count: choices.count)]
    let label: (GenerationSettings) -> String
    switch dimension {
    case .extrapolation: label = { state.model.ropeLabel(for: $0) }
    case .guidance: label = { $0.cfg <= 1 ? "no guidance" : String(format: "cfg %.1f", $0.cfg) }
    case .sampler: label = { $0.sampler.rawValue }
    case .resolution: label = { "\($0.width)x\($0.height)" }
    }
    return [(base, label(base)), (other, label(other))]
}
