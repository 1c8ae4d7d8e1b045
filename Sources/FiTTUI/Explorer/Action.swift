import FiTKit

/// Everything that can happen to the explorer: keys (already mapped to intents), ticks, and
/// reports from the generation worker and the exporter.
enum Action: Equatable, Sendable {
    case moveSelection(Int)
    case adjust(Int)
    case switchFocus
    case generate
    case cancel
    case step(Int)
    case jumpToStart
    case jumpToEnd
    case togglePlay
    case changeSpeed(Int)
    case cycleView
    case toggleCompare
    case cycleCompareDimension
    /// Picks the other lane's value of the compared setting (one notch through its choices).
    case pickCompareValue(Int)
    case export(ExportKind)
    /// Next export enlargement (×1, ×2, ×4, ×8).
    case cycleExportScale
    case decodeStep
    case toggleHelp
    case openClassPicker
    case openPrompt
    case type(Character)
    case deleteBackward
    case confirm
    case closeOverlay
    case randomizeSeed(UInt64)
    case cycleTheme
    case resize(columns: Int, rows: Int)
    case tick(now: Double)
    case quit
    // From the worker and the exporter.
    case stepArrived(generation: Int, lane: Int, frame: StepFrame, stepsPerSecond: Double)
    case laneFinished(generation: Int, lane: Int, final: RGBImage)
    case laneFailed(generation: Int, lane: Int, message: String)
    case stepDecoded(generation: Int, lane: Int, index: Int, image: RGBImage)
    case decodeFailed(generation: Int, message: String)
    case exported(String)
    case exportFailed(String)
}

extension Action {
    /// Whether the action comes from the user (a key) rather than from the clock, the terminal
    /// or the worker; only these go to an open overlay, the others always reach the state.
    var isFromUser: Bool {
        switch self {
        case .tick, .resize, .stepArrived, .laneFinished, .laneFailed, .stepDecoded, .decodeFailed, .exported, .exportFailed:
            return false
        default:
            return true
        }
    }
}

/// What an export writes.
enum ExportKind: String, Equatable, Sendable { case finalImage = "final image", contactSheet = "contact sheet", currentStep = "current step" }

/// Side effects the reducer asks the runtime to perform.
enum Effect: Equatable, Sendable {
    /// Run these settings in lockstep (one lane each) under this generation number.
    case startGeneration(generation: Int, lanes: [GenerationSettings])
    /// Stop every generation numbered up to `through` (after its current step).
    case cancelGeneration(through: Int)
    /// Write `kind` for step `step` (the one on screen when it was asked for).
    case export(ExportKind, step: Int)
    /// Decode the x0 of step `index` of lane `lane` with the VAE.
    case decodeStep(generation: Int, lane: Int, index: Int)
    case quit
}
