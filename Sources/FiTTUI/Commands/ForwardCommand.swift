import ArgumentParser
import FiTKit

/// `fit forward`: one model evaluation on inputs from a safetensors file — the hook any other
/// FiT implementation can be checked against.
struct ForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "forward",
        abstract: "Evaluate the model once: x, t, y from --inputs; out to --output.",
        discussion: """
        --inputs holds x F32 (B, C, H, W) on the latent or pixel grid, t F32 (B), y I64 or I32 (B), \
        and optionally mask (B, N) with 1 for real and 0 for padding tokens. --output receives \
        out F32 (B, C_out, H, W), C_out = 2C when the model learns sigma.
        """
    )

    @Option(help: "The model checkpoint (.safetensors).")
    var checkpoint: String

    @Option(help: "Safetensors file with x, t, y (and optionally mask).")
    var inputs: String

    @Option(help: "Where to write the output safetensors (written atomically).")
    var output: String

    @Option(help: "Model configuration JSON (network_config params) to use instead of the checkpoint's.")
    var config: String?

    @OptionGroup var rope: RoPEOptions
    @OptionGroup var runtime: RuntimeOptions
    @OptionGroup var precisionOptions: PrecisionOptions

    func run() throws {
        runtime.apply()
        try Console.reportingErrors {
            let model = try ModelCheckpoint(path: checkpoint, configurationPath: config)
                .makeModel(precision: try precisionOptions.resolved())
            let file = try SafetensorsFile(path: inputs)
            for (name, what) in [("x", "x F32 (B, C, H, W)"), ("t", "t F32 (B)"), ("y", "y I64 or I32 (B)")] where file.entries[name] == nil {
                throw FiTError.invalidInput("\(inputs) has no tensor '\(name)'; --inputs needs \(what)")
            }
            let x = try file.tensor("x")
            let t = try file.entry("t").dtype == .i64 || file.entry("t").dtype == .i32
                ? try file.integers("t").map(Float.init) : try file.tensor("t").toArray()
            let y = try file.integers("y")
            let mask = file.entries["mask"] == nil ? nil : try file.tensor("mask")
            let out = try model.forward(x, t: t, y: y, mask: mask, rope: rope.scaling)
            try SafetensorsWriter.write([("out", .float32(out))], to: output)
        }
    }
}
