import FiTKit

/// One step of a generation as the explorer keeps it: the noisy state and the clean estimate as
/// pictures (previews for latent models), and the clean estimate decoded with the VAE once asked for.
struct StepFrame: Equatable, Sendable {
    var index: Int
    var count: Int?
    var t: Double
    var xt: RGBImage
    var x0: RGBImage
    var x0Decoded: RGBImage? = nil
    /// The frame after the last step: the finished image as both x_t and x0, at the end time.
    var isFinal = false

    /// The frame that ends a finished trajectory of `steps` steps: t at its end value (1 for a
    /// flow, 0 for DDPM) and x_t equal to x0 equal to the finished image.
    static func final(_ image: RGBImage, steps: Int, flow: Bool) -> StepFrame {
        StepFrame(index: steps, count: steps, t: flow ? 1 : 0, xt: image, x0: image, x0Decoded: image, isFinal: true)
    }
}

/// An export of a latent model's step, waiting for that step's VAE decode.
struct PendingExport: Equatable, Sendable {
    var kind: ExportKind
    var generation: Int
    var step: Int
}

/// One generation shown on the canvas (two of them side by side when comparing).
struct Lane: Equatable, Sendable {
    enum Status: Equatable, Sendable { case running, done, cancelled, failed(String) }
    var settings: GenerationSettings
    var label: String
    var frames: [StepFrame] = []
    var final: RGBImage?
    var status: Status = .running
    var stepsPerSecond = 0.0
}

/// The settings rows of the sidebar, top to bottom.
enum Setting: Int, CaseIterable, Sendable {
    case classLabel, size, steps, sampler, guidance, seed, extrapolation

    /// Rows whose value can be typed (Enter opens a prompt).
    static let typed: [Setting] = [.size, .steps, .guidance, .seed]

    var title: String {
        switch self {
        case .classLabel: return "class"
        case .size: return "size"
        case .steps: return "steps"
        case .sampler: return "sampler"
        case .guidance: return "guidance"
        case .seed: return "seed"
        case .extrapolation: return "RoPE"
        }
    }
}

/// Which picture of each step the canvas shows.
enum ViewMode: String, CaseIterable, Sendable { case x0 = "x0 estimate", xt = "noisy x_t", both = "x_t | x0" }

/// The setting a comparison varies between its two lanes.
enum CompareDimension: String, CaseIterable, Sendable { case extrapolation = "RoPE", guidance, sampler, resolution }

/// Overlays drawn above everything else.
enum Overlay: Equatable, Sendable {
    case help
    /// Type-to-filter class list: the filter text and the highlighted row of the filtered list.
    case classPicker(filter: String, selection: Int)
    /// A typed value: a custom size "WxH" or a seed.
    case prompt(Setting, text: String)
}

/// Which part of the screen the arrow keys drive.
enum Focus: Sendable { case settings, canvas }

/// Everything the explorer shows and remembers; changed only by ``reduce(_:_:)``.
struct AppState: Equatable, Sendable {
    var model: ModelInfo
    var settings: GenerationSettings
    var focus: Focus = .settings
    var selectedSetting: Setting = .classLabel
    var lanes: [Lane] = []
    var compare: CompareDimension?
    var compareDimension: CompareDimension = .extrapolation
    /// Which of the compared setting's choices the other lane takes (see ``compareChoices``).
    var compareChoice = 0
    /// Increases with every generation so events of an abandoned one are ignored.
    var generation = 0
    var position = 0
    var followLatest = true
    var view: ViewMode = .x0
    /// Exported pictures are enlarged this many times (nearest neighbour; metadata unchanged).
    var exportScale = 1
    var playing = false
    /// Seconds per step during playback.
    var playbackInterval = 0.25
    var lastAdvance = 0.0
    var overlay: Overlay?
    var message = ""
    var themeNames: [String] = ["default"]
    var themeIndex = 0
    var columns = 80
    var rows = 24
    var quitting = false
    /// An export waiting for its step's VAE decode.
    var pendingExport: PendingExport?

    init(model: ModelInfo) {
        self.model = model
        settings = model.defaults
    }

    /// The view the canvas really shows: two lanes side by side have room for x0 only in "both".
    var shownView: ViewMode { lanes.count > 1 && view == .both ? .x0 : view }

    /// Steps every lane has reached (the lockstep position limit).
    var availableSteps: Int { lanes.map(\.frames.count).min() ?? 0 }
    var isGenerating: Bool { lanes.contains { $0.status == .running } }

    /// Classes matching the picker filter (by name or id), as (id, name).
    func filteredClasses(_ filter: String) -> [(id: Int, name: String)] {
        let all = (0..<max(model.classNames.count, 1)).map { ($0, model.className($0)) }
        let f = filter.lowercased()
        guard !f.isEmpty else { return all }
        return all.filter { $0.1.lowercased().contains(f) || String($0.0) == f }
    }

    /// The value shown for `setting`.
    func display(_ setting: Setting) -> String {
        switch setting {
        case .classLabel: return "\(settings.classID) \(model.className(settings.classID))"
        case .size: return "\(settings.width)x\(settings.height)"
        case .steps: return settings.sampler == .dopri5 ? "adaptive" : "\(settings.steps)"
        case .sampler: return settings.sampler.rawValue
        case .guidance: return settings.cfg <= 1 ? "off (1.0)" : String(format: "%.1f", settings.cfg)
        case .seed: return "\(settings.seed)"
        case .extrapolation: return model.ropeLabel(for: settings)
        }
    }
}

import Foundation
