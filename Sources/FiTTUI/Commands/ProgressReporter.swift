import FiTKit
import Foundation

/// Progress on stderr: a live bar when stderr is a terminal, one line per image otherwise,
/// nothing when quiet.
final class ProgressReporter: GenerationProgress {
    private let quiet: Bool
    private let interactive: Bool
    private let label: String
    private let start = DispatchTime.now().uptimeNanoseconds
    private var steps = 0

    init(quiet: Bool, label: String) {
        self.quiet = quiet
        self.interactive = isatty(STDERR_FILENO) != 0
        self.label = label
    }

    private var elapsed: Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }

    func update(step: TrajectoryStep) {
        steps += 1
        guard !quiet, interactive else { return }
        let rate = Double(steps) / max(elapsed, 1e-9)
        let total = step.count.map(String.init) ?? "?"
        let remaining = step.count.map { Double($0 - steps) / rate } ?? (1 - step.progress) / max(step.progress, 1e-9) * elapsed
        let width = 24, filled = Int(step.progress * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let line = String(format: "\r%@ %@ step %d/%@  %.2f it/s  ETA %@  ", label, bar, steps, total, rate, DurationText.clock(remaining))
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Says that the VAE decode is running (it takes seconds on a CPU), on a terminal only.
    func note(decoding slow: Bool) {
        guard slow, !quiet, interactive else { return }
        FileHandle.standardError.write(Data("\r\(label) decoding with the VAE…\u{1B}[K".utf8))
    }

    func finish(path: String, evaluations: Int) {
        guard !quiet else { return }
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        Console.note(String(format: "wrote %@ (%d steps, %d model evaluations, %.1f s)", path, steps, evaluations, elapsed))
    }
}
