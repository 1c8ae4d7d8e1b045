import Foundation

/// Where a batch of generations is written, and the writing: one PNG per seed (with its record),
/// optionally every step of each (x_t and x0) and one contact sheet of them all. Every path is
/// checked before the first generation starts, and nothing is overwritten unless `force`.
public struct GenerationFiles: Sendable {
    /// The PNG (numbered `NAME-SEED.png` when several); default `fit-output/<class>-<seed>.png`.
    public var out: String?
    /// A folder for every step's x_t and x0 (a subfolder `seed-N` per image when several).
    public var trajectoryFolder: String?
    /// A contact sheet: the trajectory of one image, or one row of x0 estimates per image.
    public var sheet: String?
    public var force: Bool
    /// Every written picture is enlarged this many times (nearest neighbour).
    public var scale: Int

    public init(out: String? = nil, trajectoryFolder: String? = nil, sheet: String? = nil, force: Bool = false, scale: Int = 1) {
        self.out = out
        self.trajectoryFolder = trajectoryFolder
        self.sheet = sheet
        self.force = force
        self.scale = scale
    }

    /// Where image `seed` of `plan` goes: `out` (numbered when several), else `fit-output/<class>-<seed>.png`.
    public func outputPath(_ plan: GenerationPlan, seed: UInt64, numbered: Bool) -> String {
        guard let out else {
            let name = (plan.model.className(plan.classID) ?? "class\(plan.classID)").replacingOccurrences(of: "/", with: "-")
            return "fit-output/\(name)-\(seed).png"
        }
        guard numbered else { return out }
        let url = URL(fileURLWithPath: out)
        let stem = url.deletingPathExtension().lastPathComponent, ext = url.pathExtension.isEmpty ? "png" : url.pathExtension
        return url.deletingLastPathComponent().appendingPathComponent("\(stem)-\(seed).\(ext)").path
    }

    /// Where image `seed`'s steps go, with a folder per seed when several.
    public func trajectoryFolder(seed: UInt64, numbered: Bool) -> String? {
        trajectoryFolder.map { numbered ? "\($0)/seed-\(seed)" : $0 }
    }

    /// Runs `plan` for `count` seeds (its seed, seed+1, …) and writes the files. `progress`
    /// gives an observer for each image (named by its file name), or nil.
    public func write(_ plan: GenerationPlan, count: Int, progress: (String) -> GenerationProgress? = { _ in nil }) throws {
        let numbered = count > 1
        let seeds = (0..<count).map { plan.seed &+ UInt64($0) }
        let paths = seeds.map { outputPath(plan, seed: $0, numbered: numbered) }
        for path in paths { try OutputFiles.prepare(path, force: force, createFolder: out == nil) }
        if let sheet { try OutputFiles.prepare(sheet, force: force, createFolder: false) }
        for s in seeds {
            if let folder = trajectoryFolder(seed: s, numbered: numbered) { try OutputFiles.prepareTrajectoryFolder(folder, force: force) }
        }
        var rows: [SheetRow] = []
        var firstRecord: GenerationRecord?
        for (s, path) in zip(seeds, paths) {
            let (row, record) = try write(plan, seed: s, to: path, trajectoryFolder: trajectoryFolder(seed: s, numbered: numbered),
                                          progress: progress((path as NSString).lastPathComponent))
            rows.append(row)
            if firstRecord == nil { firstRecord = record }
        }
        if let sheet, let firstRecord {
            // One generation: x_t above, x0 below, both ending with the finished image. Several: one
            // row per seed, its x0 estimates and its finished image. Captions: step and time.
            let flow = plan.sampler.isFlow
            let captions = rows[0].captions + [ContactSheet.caption(step: nil, t: flow ? 1 : 0, flow: flow)]
            let image = rows.count == 1
                ? ContactSheet.compose([rows[0].xt + [rows[0].final], rows[0].x0 + [rows[0].final]], captions: captions)
                : ContactSheet.compose(rows.map { $0.x0 + [$0.final] }, captions: captions)
            try PNGFile.write(image.upscaled(by: scale), text: [(GenerationRecord.textKey, try firstRecord.json())], to: sheet)
        }
    }

    /// One generation's pictures for a contact sheet: evenly spaced steps and the final image.
    private struct SheetRow {
        var xt: [RGBImage] = []
        var x0: [RGBImage] = []
        var captions: [String] = []
        var final: RGBImage
    }

    /// Runs one generation and writes its PNG (and its steps to `trajectoryFolder`).
    private func write(_ plan: GenerationPlan, seed: UInt64, to path: String, trajectoryFolder: String?,
                       progress: GenerationProgress?) throws -> (SheetRow, GenerationRecord) {
        if let trajectoryFolder { try OutputFiles.prepareFolder(trajectoryFolder) }
        let keeping = sheet != nil || trajectoryFolder != nil
        var kept: [TrajectoryStep] = []
        let decoder = plan.model.decoder
        // The final image and every x0 estimate written are full decodes (the VAE for latent
        // models). The noisy x_t of a latent model is written as its preview, enlarged: decoding
        // noise with a large VAE costs a pass per step and shows little more.
        let result = try plan.run(seed: seed, onStep: { step in
            progress?.update(step: step)
            if keeping { kept.append(step) }
        }, onDecoding: { progress?.note(decoding: decoder.previewIsApproximate) })
        let noisy = { (x: Tensor) in decoder.preview(x, index: 0).upscaled(by: decoder.previewScale) }
        try result.write(to: path, scale: scale)
        if let trajectoryFolder {
            for step in kept {
                let name = String(format: "step-%03d", step.index)
                try PNGFile.write(noisy(step.xt).upscaled(by: scale), to: "\(trajectoryFolder)/\(name)-xt.png")
                try PNGFile.write(try decoder.decode(step.x0, index: 0).upscaled(by: scale), to: "\(trajectoryFolder)/\(name)-x0.png")
            }
        }
        var row = SheetRow(final: result.image)
        if sheet != nil {
            let chosen = ContactSheet.evenlySpaced(count: kept.count, limit: 16).map { kept[$0] }
            row.xt = chosen.map { noisy($0.xt) }
            row.x0 = try chosen.map { try decoder.decode($0.x0, index: 0) }
            row.captions = chosen.map { ContactSheet.caption(step: $0.index + 1, t: $0.t, flow: plan.sampler.isFlow) }
        }
        progress?.finish(path: path, evaluations: result.evaluations)
        return (row, result.record)
    }
}

/// Watches one generation of ``GenerationFiles/write(_:count:progress:)``.
public protocol GenerationProgress: AnyObject {
    /// A step is done.
    func update(step: TrajectoryStep)
    /// The final decode starts; `slow` when it is a full VAE decode rather than a preview-sized one.
    func note(decoding slow: Bool)
    /// The image is written.
    func finish(path: String, evaluations: Int)
}
