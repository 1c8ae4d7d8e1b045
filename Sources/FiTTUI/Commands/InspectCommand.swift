import ArgumentParser
import FiTKit
import Foundation

/// `fit inspect`: what a checkpoint is and whether it loads.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a checkpoint's configuration, preset, size, RoPE limits and the BLAS kernels in use."
    )

    @Argument(help: "The model checkpoint (.safetensors), or `embedded` for the model built into fit.")
    var checkpoint: String

    @Option(help: "Model configuration JSON to use instead of the checkpoint's.")
    var config: String?

    @OptionGroup var runtime: RuntimeOptions

    func run() throws {
        runtime.apply()
        try Console.reportingErrors {
            let model = try ModelCheckpoint(path: try EmbeddedModel.resolve(checkpoint), configurationPath: config)
            let c = model.configuration
            let shapes = model.file.tensorShapesByName
            var dtypes: [String: Int] = [:]
            for e in model.file.entries.values { dtypes[e.dtype.rawValue, default: 0] += 1 }
            let preset = ModelPreset.detect(shapes: shapes, path: checkpoint)
            let latent = c.inChannels == 4
            let pixelsPerToken = c.patchSize * (latent ? 8 : 1)
            let family = c.useSit ? "FiTv2-style: rectified flow, predicts velocity"
                                  : "FiTv1-style: DDPM, predicts noise\(c.learnSigma ? " and variance" : "")"
            var lines = [
                "checkpoint:    \(checkpoint)",
                "configuration: \(model.source)",
                "preset:        \(preset?.rawValue ?? "none (tensors match no official model)")",
                "model:         \(family); \(latent ? "latent space (SD-VAE, 8×)" : "\(c.inChannels)-channel pixel space")",
                "network:       hidden \(c.hiddenSize), depth \(c.depth), heads \(c.numHeads) × \(c.headDim), patch \(c.patchSize), "
                    + "channels \(c.inChannels) → \(c.outChannels), \(c.useSwiglu ? "SwiGLU" : "GELU MLP") \(c.ffnHidden)",
                "conditioning:  adaLN \(c.usesLoRAAdaLN ? "LoRA r=\(c.adalnLoraDim ?? 0) + global" : "full 6D"), "
                    + "QK-norm \(c.qNorm ?? "none"), \(c.numClasses) classes\(c.classDropoutProb > 0 ? " + null class \(c.numClasses)" : "")",
                "parameters:    \(grouped(c.parameterCount)) expected; file holds \(grouped(model.file.entries.values.reduce(0) { $0 + $1.elementCount })) "
                    + "in \(model.file.entries.count) tensors (\(dtypes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))",
                "RoPE:          \(c.customFreqs), decouple \(c.decouple), ori_max_pe_len \(c.defaultOriMaxPeLen); "
                    + "trained on ≤ \(c.contextSize) tokens; at most \(RoPE2D.maximumSide) tokens per side "
                    + "(\(RoPE2D.maximumSide * pixelsPerToken) px); sizes in steps of \(pixelsPerToken) px",
                "BLAS:          core \(BLASRuntime.coreName) (\(BLASRuntime.coreSource)), threads \(Parallel.threads)",
            ]
            if !c.unknownKeys.isEmpty { lines.append("unknown keys:  \(c.unknownKeys.joined(separator: ", ")) (ignored)") }
            let others = model.file.metadata.keys.filter { $0 != "fit_config" }.sorted()
            if !others.isEmpty { lines.append("metadata:      \(others.joined(separator: ", "))") }
            var failure: FiTError?
            do {
                try FiT.verifyBinding(configuration: c, shapes: shapes)
                lines.append("binding:       ok (strict: every tensor present with its exact shape)")
            } catch let error as FiTError {
                lines.append("binding:       FAILED")
                failure = error
            }
            print(lines.joined(separator: "\n"))
            if let failure { throw failure }
        }
    }

    private func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        return String(digits.enumerated().flatMap { i, ch in (i > 0 && (digits.count - i) % 3 == 0) ? [",", ch] : [ch] })
    }
}
