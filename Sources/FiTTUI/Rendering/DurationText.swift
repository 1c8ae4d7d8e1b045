import Foundation

/// Durations as people read them on a status line.
enum DurationText {
    /// `m:ss` for a number of seconds; `--:--` when unknown.
    static func clock(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "--:--" }
        let s = Int(seconds.rounded())
        return String(format: "%d:%02d", s / 60, s % 60)
    }
}
