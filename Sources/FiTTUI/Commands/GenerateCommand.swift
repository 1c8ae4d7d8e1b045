import ArgumentParser
import FiTKit
import Foundation

/// `fit generate`: sample images headlessly and write PNGs that remember how they were made.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate images and write them as PNG (with the settings in their metadata).",
        discussion: """
        Defaults come from the model's metadata (recommended sampler, steps, guidance, size). \
        The PNG's 'parameters' text chunk records every setting; `fit generate --from IMAGE.png` \
        makes the same image again.
        """
    )

    @OptionGroup var model: ModelOptions

    @OptionGroup var sampling: SamplingOptions

    @Option(help: "Output PNG (default: fit-output/<class>-<seed>.png).")
    var out: String?

    @Option(help: "Folder to write every step's x_t and x0 to (a subfolder seed-N per image with --count).")
    var trajectory: String?

    @Option(help: "Write a contact sheet to this PNG: the trajectory (x_t above, x0 below), or with --count one row per image.")
    var sheet: String?

    @Option(parsing: .unconditional, help: "Number of images (seeds seed, seed+1, …), 1…10000.")
    var count = 1

    @Option(parsing: .unconditional, help: "Enlarge the written pictures N times, 1…16 (nearest neighbour; the metadata is unchanged), so a 32-px image is not a dot in a viewer.")
    var scale = 1

    @Flag(help: "Overwrite existing files.")
    var force = false

    @Flag(help: "Print nothing but errors.")
    var quiet = false

    @Option(help: "Regenerate the image whose PNG metadata is in this file.")
    var from: String?

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if count < 1 || count > 10_000 { throw ValidationError("--count must be 1…10000, got \(count)") }
        if !(1...16).contains(scale) { throw ValidationError("--scale must be 1…16, got \(scale)") }
        if from == nil && sampling.classLabel == nil { throw ValidationError("--class is required (or --from IMAGE.png)") }
    }

    func run() throws {
        runtime.apply()
        try Console.reportingErrors {
            let record = try from.map { path in try GenerationRecord.from(pngText: try PNGFile.read(path).text, path: path) }
            let loaded = try model.load(orRecorded: record)
            let plan = try GenerationPlan(model: loaded, request: try sampling.request(), record: record)
            let files = GenerationFiles(out: out, trajectoryFolder: trajectory, sheet: sheet, force: force, scale: scale)
            try files.write(plan, count: count, progress: { ProgressReporter(quiet: quiet, label: $0) })
        }
    }
}

extension SamplerKind: ExpressibleByArgument {}
extension ColorMode: ExpressibleByArgument {}
