import FiTKit
import Foundation

/// The settings of one `fit generate` run resolved against the model: flags first, then the
/// image's record (`--from`), then the model's recommendations, then defaults for its family.
struct GenerationPlan {
    let loaded: LoadedModel
    let classID: Int
    let width: Int
    let height: Int
    let grid: (height: Int, width: Int)
    let steps: Int
    let sampler: SamplerKind
    let cfg: Double
    let scalePow: Double
    let guidedChannels: Int?
    let seed: UInt64
    let rope: RoPEScaling?
    let output: Output

    /// Where `fit generate` writes (unused by `fit render`).
    struct Output {
        var out: String?
        var trajectoryFolder: String?
        var sheet: String?
        var force = false
        /// Every written picture is enlarged this many times (nearest neighbour).
        var scale = 1
    }

    init(options c: SamplingOptions, model loaded: LoadedModel, record: GenerationRecord?, output: Output = Output()) throws {
        self.loaded = loaded
        let config = loaded.model.configuration
        let recommended = loaded.metadata.recommended
        let geometry = loaded.geometry
        classID = try c.classLabel.map { try loaded.metadata.classID(for: $0, numClasses: config.numClasses) }
            ?? record!.classID
        if let text = c.size ?? record.map({ "\($0.width)x\($0.height)" }) ?? recommended.size {
            (width, height) = try ImageGeometry.parse(text)
        } else {
            (width, height) = (geometry.nativeSide, geometry.nativeSide)
        }
        grid = try geometry.grid(width: width, height: height)
        let defaults = loaded.defaultSampling
        sampler = c.sampler ?? record?.sampler ?? defaults.sampler
        steps = c.steps ?? record?.steps ?? defaults.steps
        cfg = c.cfg ?? record?.cfg ?? defaults.cfg
        scalePow = c.scalePow ?? record?.scalePow ?? recommended.scalePow ?? 0
        guidedChannels = c.guidedChannels ?? record?.guidedChannels
        seed = c.seed ?? record?.seed ?? UInt64(UInt32.random(in: 0...UInt32.max))
        if let explicit = c.rope.scaling {
            rope = explicit
        } else if let record {
            rope = record.rope
        } else {
            rope = recommended.rope(height: grid.height, width: grid.width)
        }
        self.output = output
        try parameters(seed: seed).validate(for: config)
    }

    func parameters(seed: UInt64) -> SamplingParameters {
        SamplingParameters(classes: [classID], height: grid.height, width: grid.width, steps: steps, sampler: sampler,
                           guidanceScale: cfg, scalePower: scalePow, guidedChannels: guidedChannels, seed: seed, rope: rope)
    }

    /// Where image `seed` goes: `--out` (numbered when several), else `fit-output/<class>-<seed>.png`.
    func outputPath(seed: UInt64, numbered: Bool) -> String {
        guard let out = output.out else {
            let name = (loaded.className(classID) ?? "class\(classID)").replacingOccurrences(of: "/", with: "-")
            return "fit-output/\(name)-\(seed).png"
        }
        guard numbered else { return out }
        let url = URL(fileURLWithPath: out)
        let stem = url.deletingPathExtension().lastPathComponent, ext = url.pathExtension.isEmpty ? "png" : url.pathExtension
        return url.deletingLastPathComponent().appendingPathComponent("\(stem)-\(seed).\(ext)").path
    }

    /// Where image `seed`'s steps go: `--trajectory`, with a folder per seed when several.
    func trajectoryFolder(seed: UInt64, numbered: Bool) -> String? {
        output.trajectoryFolder.map { numbered ? "\($0)/seed-\(seed)" : $0 }
    }

    /// One generation's pictures for a contact sheet: evenly spaced steps and the final image.
    struct SheetRow {
        var xt: [RGBImage]
        var x0: [RGBImage]
        var captions: [String]
        var final: RGBImage
    }

    /// Runs generations for `count` seeds (seed, seed+1, …) and writes their files: one PNG
    /// each, their trajectories (in a folder per seed when several), and one contact sheet of
    /// all of them. Every path is checked before the first generation starts.
    func generate(count: Int, quiet: Bool) throws {
        let numbered = count > 1
        let seeds = (0..<count).map { seed &+ UInt64($0) }
        for s in seeds {
            try OutputFiles.prepare(outputPath(seed: s, numbered: numbered), force: output.force, createFolder: output.out == nil)
        }
        if let sheet = output.sheet { try OutputFiles.prepare(sheet, force: output.force, createFolder: false) }
        for s in seeds {
            if let folder = trajectoryFolder(seed: s, numbered: numbered) { try OutputFiles.prepareTrajectoryFolder(folder, force: output.force) }
        }
        var rows: [SheetRow] = []
        var firstRecord: GenerationRecord?
        for s in seeds {
            let folder = trajectoryFolder(seed: s, numbered: numbered)
            let (row, record) = try generate(seed: s, numbered: numbered, trajectoryFolder: folder, quiet: quiet)
            rows.append(row)
            if firstRecord == nil { firstRecord = record }
        }
        if let sheet = output.sheet, let firstRecord {
            // One generation: x_t above, x0 below, both ending with the finished image. Several: one
            // row per seed, its x0 estimates and its finished image. Captions: step and time.
            let captions = rows[0].captions + [ContactSheet.caption(step: nil, t: sampler.isFlow ? 1 : 0, flow: sampler.isFlow)]
            let image = rows.count == 1
                ? ContactSheet.compose([rows[0].xt + [rows[0].final], rows[0].x0 + [rows[0].final]], captions: captions)
                : ContactSheet.compose(rows.map { $0.x0 + [$0.final] }, captions: captions)
            try PNGFile.write(image.upscaled(by: output.scale), text: [(GenerationRecord.textKey, try firstRecord.json())], to: sheet)
        }
    }

    /// Runs one generation and writes its PNG (and its trajectory to `trajectoryFolder`).
    private func generate(seed: UInt64, numbered: Bool, trajectoryFolder: String?, quiet: Bool) throws -> (SheetRow, GenerationRecord) {
        let path = outputPath(seed: seed, numbered: numbered)
        if let trajectoryFolder { try OutputFiles.prepareFolder(trajectoryFolder) }

        let trajectory = try DenoisingTrajectory(model: loaded.model, parameters: parameters(seed: seed))
        var iterator = trajectory.makeIterator()
        let progress = ProgressReporter(quiet: quiet, label: (path as NSString).lastPathComponent)
        var kept: [TrajectoryStep] = []
        var last: TrajectoryStep?
        while let step = try iterator.nextStep() {
            progress.update(step: step)
            if output.sheet != nil || trajectoryFolder != nil { kept.append(step) }
            last = step
        }
        guard let last else { throw FiTError.invalidInput("the sampler made no steps") }
        let record = loaded.record(classID: classID, width: width, height: height, steps: steps, sampler: sampler, cfg: cfg,
                                   scalePow: scalePow, guidedChannels: guidedChannels, seed: seed, rope: rope)
        // The final image and every x0 estimate written are full decodes (the VAE for latent
        // models). The noisy x_t of a latent model is written as its preview, enlarged: decoding
        // noise with a large VAE costs a pass per step and shows little more.
        let decoder = loaded.decoder
        progress.note(decoding: decoder.previewIsApproximate)
        let final = try decoder.decode(last.next, index: 0)
        let noisy = { (x: Tensor) in decoder.preview(x, index: 0).upscaled(by: decoder.previewScale) }
        let scale = output.scale
        try PNGFile.write(final.upscaled(by: scale), text: [(GenerationRecord.textKey, try record.json()), ("Software", "fit")], to: path)
        if let trajectoryFolder {
            for step in kept {
                let name = String(format: "step-%03d", step.index)
                try PNGFile.write(noisy(step.xt).upscaled(by: scale), to: "\(trajectoryFolder)/\(name)-xt.png")
                try PNGFile.write(try decoder.decode(step.x0, index: 0).upscaled(by: scale), to: "\(trajectoryFolder)/\(name)-x0.png")
            }
        }
        var row = SheetRow(xt: [], x0: [], captions: [], final: final)
        if output.sheet != nil {
            let chosen = ContactSheet.evenlySpaced(count: kept.count, limit: 16).map { kept[$0] }
            row.xt = chosen.map { noisy($0.xt) }
            row.x0 = try chosen.map { try decoder.decode($0.x0, index: 0) }
            row.captions = chosen.map { ContactSheet.caption(step: $0.index + 1, t: $0.t, flow: sampler.isFlow) }
        }
        progress.finish(path: path, evaluations: iterator.evaluations)
        return (row, record)
    }
}

/// Checks on output paths before any work is done.
enum OutputFiles {
    /// Fails when `path` exists (unless `force`) or its folder is missing (created when `createFolder`).
    static func prepare(_ path: String, force: Bool, createFolder: Bool) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isFolder: ObjCBool = false
        if !FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder) {
            guard createFolder else { throw FiTError.writeFailed(path: path, reason: "the folder \(folder) does not exist") }
            try prepareFolder(folder)
        } else if !isFolder.boolValue {
            throw FiTError.writeFailed(path: path, reason: "\(folder) is not a folder")
        }
        guard FileManager.default.isWritableFile(atPath: folder) else {
            throw FiTError.writeFailed(path: path, reason: "the folder \(folder) is not writable")
        }
        var entry = stat()
        guard lstat(path, &entry) == 0 else { return }
        switch entry.st_mode & S_IFMT {
        case S_IFDIR: throw FiTError.writeFailed(path: path, reason: "it is a folder; give a file name (for example \(path)/image.png)")
        case S_IFLNK where !force:
            throw FiTError.writeFailed(path: path, reason: "a symbolic link is there (pass --force to replace the link with the image)")
        case S_IFREG where !force: throw FiTError.writeFailed(path: path, reason: "the file exists (pass --force to overwrite)")
        case S_IFREG, S_IFLNK: return
        default: throw FiTError.writeFailed(path: path, reason: "something that is not a file is there")
        }
    }

    /// Fails when `folder` already holds step images (unless `force`), so that a trajectory never
    /// silently overwrites another.
    static func prepareTrajectoryFolder(_ folder: String, force: Bool) throws {
        let existing = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasPrefix("step-") && $0.hasSuffix(".png") }
        if !existing.isEmpty && !force {
            throw FiTError.writeFailed(path: folder, reason: "the folder already holds \(existing.count) step images (pass --force to overwrite them, or pick another folder)")
        }
    }

    /// Creates `folder` (and its parents) when missing.
    static func prepareFolder(_ folder: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw FiTError.writeFailed(path: folder, reason: "cannot create the folder (\(error.localizedDescription))")
        }
    }
}
