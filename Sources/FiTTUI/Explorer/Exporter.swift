import FiTKit
import Foundation

/// Writes what the explorer shows to PNG files in the output folder: never over an existing
/// file (a numbered name is chosen), always atomically, with the generation record attached.
struct Exporter {
    let folder: String
    let loaded: LoadedModel

    /// Writes `kind` (of step `step` for the current step) for every lane on screen; returns the
    /// paths written. When comparing, each name says what differs (`heart-7-VisionYaRN-final.png`).
    func export(_ kind: ExportKind, step: Int, state: AppState) throws -> [String] {
        guard !state.lanes.isEmpty else { throw FiTError.invalidInput("nothing to export") }
        let images = try state.lanes.map { try picture(kind, of: $0, step: step, state: state) }
        try OutputFiles.prepareFolder(folder)
        var written: [String] = []
        for (lane, (image, suffix)) in zip(state.lanes, images) {
            let s = lane.settings
            let record = try GenerationPlan(model: loaded, request: state.model.request(for: s)).record(seed: s.seed)
            var stem = "\(loaded.className(s.classID) ?? "class\(s.classID)")-\(s.seed)"
            if state.lanes.count > 1 { stem += "-" + Self.fileNamePart(lane.label) }
            let path = uniquePath("\(folder)/\(stem.replacingOccurrences(of: "/", with: "-"))-\(suffix)")
            try PNGFile.write(image.upscaled(by: state.exportScale), text: try record.pngText(), to: path)
            written.append(path)
        }
        return written
    }

    /// `label` as part of a file name: letters, digits and `.+_` kept, anything else one `-`.
    static func fileNamePart(_ label: String) -> String {
        var out = ""
        for ch in label {
            if ch.isLetter || ch.isNumber || ".+_".contains(ch) { out.append(ch) } else if !out.hasSuffix("-") { out.append("-") }
        }
        return out.trimmingCharacters(in: CharacterSet(charactersIn: "-"))
    }

    /// The picture `kind` of `lane` and the file name suffix saying what it is.
    private func picture(_ kind: ExportKind, of lane: Lane, step: Int, state: AppState) throws -> (RGBImage, String) {
        switch kind {
        case .finalImage:
            guard let final = lane.final else { throw FiTError.invalidInput("the final image is not there yet") }
            return (final, "final")
        case .contactSheet:
            // x_t above, x0 below, evenly spaced steps ending with the finished image (the final
            // frame), so both rows have a picture in every column.
            let chosen = ContactSheet.evenlySpaced(count: lane.frames.count, limit: 16).map { lane.frames[$0] }
            // Latent models: steps not decoded with d are previews at latent resolution, enlarged.
            let enlarge = { (frame: StepFrame, image: RGBImage) in frame.isFinal ? image : image.upscaled(by: loaded.decoder.previewScale) }
            let captions = chosen.map { ContactSheet.caption(step: $0.isFinal ? nil : $0.index + 1, t: $0.t, flow: lane.settings.sampler.isFlow) }
            return (ContactSheet.compose([chosen.map { enlarge($0, $0.xt) }, chosen.map { $0.x0Decoded ?? enlarge($0, $0.x0) }],
                                         captions: captions), "sheet")
        case .currentStep:
            guard !lane.frames.isEmpty else { throw FiTError.invalidInput("no steps yet") }
            let frame = lane.frames[min(step, lane.frames.count - 1)]
            if frame.isFinal { return (frame.x0, "final") }
            if let decoded = frame.x0Decoded {
                // Latent models: the step as the VAE decodes it (the reducer asks for the decode first).
                return (decoded, "step\(frame.index + 1)-x0")
            }
            let view = state.shownView
            let image = view == .xt ? frame.xt : view == .x0 ? frame.x0 : ContactSheet.compose([[frame.xt, frame.x0]], gap: 0)
            return (image, "step\(frame.index + 1)-\(view == .xt ? "xt" : view == .x0 ? "x0" : "both")")
        }
    }

    private func uniquePath(_ base: String) -> String {
        var candidate = base + ".png", n = 1
        while FileManager.default.fileExists(atPath: candidate) { candidate = "\(base)-\(n).png"; n += 1 }
        return candidate
    }
}
