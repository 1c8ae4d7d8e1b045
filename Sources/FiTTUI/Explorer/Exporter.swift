import FiTKit
import Foundation

/// Writes what the explorer shows to PNG files in the output folder: never over an existing
/// file (a numbered name is chosen), always atomically, with the generation record attached.
struct Exporter {
    let folder: String
    let loaded: LoadedModel

    /// Writes `kind` (of step `step` for the current step) for the current state; returns the path written.
    func export(_ kind: ExportKind, step: Int, state: AppState) throws -> String {
        guard let lane = state.lanes.first else { throw FiTError.invalidInput("nothing to export") }
        let s = lane.settings
        let record = GenerationRecord(software: "fit \(FitCommand.configuration.version)", modelPath: loaded.path,
                                      modelHash: loaded.fingerprint, classID: s.classID, className: loaded.className(s.classID),
                                      width: s.width, height: s.height, steps: s.steps, sampler: s.sampler, cfg: s.cfg,
                                      scalePow: 0, guidedChannels: nil, seed: s.seed, rope: state.model.rope(for: s))
        let stem = "\(loaded.className(s.classID) ?? "class\(s.classID)")-\(s.seed)".replacingOccurrences(of: "/", with: "-")
        let image: RGBImage, suffix: String
        switch kind {
        case .finalImage:
            guard let final = lane.final else { throw FiTError.invalidInput("the final image is not there yet") }
            (image, suffix) = (final, "final")
        case .contactSheet:
            // x_t above, x0 below, evenly spaced steps ending with the finished image (the final
            // frame), so both rows have a picture in every column.
            let chosen = ContactSheet.evenlySpaced(count: lane.frames.count, limit: 16).map { lane.frames[$0] }
            // Latent models: steps not decoded with d are previews at latent resolution, enlarged.
            let enlarge = { (frame: StepFrame, image: RGBImage) in frame.isFinal ? image : image.upscaled(by: loaded.decoder.previewScale) }
            image = ContactSheet.compose([chosen.map { enlarge($0, $0.xt) }, chosen.map { $0.x0Decoded ?? enlarge($0, $0.x0) }])
            suffix = "sheet"
        case .currentStep:
            let frame = lane.frames[min(step, lane.frames.count - 1)]
            if frame.isFinal {
                (image, suffix) = (frame.x0, "final")
            } else if let decoded = frame.x0Decoded {
                // Latent models: the step as the VAE decodes it (the reducer asks for the decode first).
                (image, suffix) = (decoded, "step\(frame.index + 1)-x0")
            } else {
                image = state.view == .xt ? frame.xt : state.view == .x0 ? frame.x0 : ContactSheet.compose([[frame.xt, frame.x0]], gap: 0)
                suffix = "step\(frame.index + 1)-\(state.view == .xt ? "xt" : state.view == .x0 ? "x0" : "both")"
            }
        }
        try OutputFiles.prepareFolder(folder)
        let path = uniquePath("\(folder)/\(stem)-\(suffix)")
        try PNGFile.write(image, text: [(GenerationRecord.textKey, try record.json()), ("Software", "fit")], to: path)
        return path
    }

    private func uniquePath(_ base: String) -> String {
        var candidate = base + ".png", n = 1
        while FileManager.default.fileExists(atPath: candidate) { candidate = "\(base)-\(n).png"; n += 1 }
        return candidate
    }
}
