import ArgumentParser
import FiTKit
import Foundation

/// `fit inspect`: what a checkpoint is and whether it loads.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a checkpoint's configuration, preset, size, RoPE limits and the BLAS kernels in use (or a VAE's)."
    )

    @Argument(help: "The model checkpoint or SD-VAE (.safetensors), or `embedded` for the model built into fit.")
    var checkpoint: String?

    @Flag(help: "Instead of a checkpoint: which image protocols this terminal speaks (environment and replies to a query).")
    var terminal = false

    @Option(help: "Model configuration JSON to use instead of the checkpoint's.")
    var config: String?

    @OptionGroup var runtime: RuntimeOptions

    func validate() throws {
        if (checkpoint == nil) == !terminal { throw ValidationError("give a checkpoint, or --terminal") }
    }

    /// What the environment names and what the terminal answers.
    private func inspectTerminal() {
        let guess = GraphicsProtocol.guess(environment: ProcessInfo.processInfo.environment)
        var lines = ["environment:   \(guess == .none ? "names no image protocol" : "names \(guess.rawValue)")"
                     + (StdoutTerminal.insideMultiplexer ? " (inside tmux/screen: half blocks unless asked)" : "")]
        if let answer = TerminalQuery.ask() {
            lines.append("terminal:      kitty graphics \(answer.kitty ? "yes" : "no"), sixel \(answer.sixel ? "yes" : "no")"
                         + (answer.sixelGeometry.map { ", sixel geometry \($0.width)×\($0.height) px (XTSMGRAPHICS)" } ?? ""))
        } else {
            lines.append("terminal:      not asked (stdin or stdout is not a terminal)")
        }
        let auto = StdoutTerminal().columns == nil ? "half blocks (not a terminal)"
            : StdoutTerminal.insideMultiplexer ? "half blocks (inside tmux/screen; pass --graphics to force a protocol)"
            : guess != .none ? guess.rawValue : "the terminal's answer, else half blocks"
        lines.append("--graphics auto uses: \(auto)")
        print(lines.joined(separator: "\n"))
    }

    func run() throws {
        runtime.apply()
        if terminal { return inspectTerminal() }
        let checkpoint = self.checkpoint!
        try Console.reportingErrors {
            let path = try EmbeddedModel.resolve(checkpoint)
            if try SafetensorsFile(path: path).entries["decoder.conv_in.weight"] != nil {
                if config != nil { throw FiTError.invalidInput("\(checkpoint) is a VAE: --config is for FiT models (a VAE's shape comes from its vae_config or config.json)") }
                return try inspectVAE(path)
            }
            let model = try ModelCheckpoint(path: path, configurationPath: config)
            let c = model.configuration
            let carried = model.carriedVAE
            let shapes = carried == nil ? model.file.tensorShapesByName
                : WeightSubset(model.file, outside: VAECheckpoint.carriedPrefix).tensorShapesByName
            var dtypes: [String: Int] = [:]
            for e in model.file.entries.values { dtypes[e.dtype.rawValue, default: 0] += 1 }
            let preset = ModelPreset.detect(shapes: shapes, path: checkpoint)
            let latent = c.inChannels == 4
            let factor = carried?.configuration.downsamplingFactor ?? 8
            let pixelsPerToken = c.patchSize * (latent ? factor : 1)
            let family = c.useSit ? "FiTv2-style: rectified flow, predicts velocity"
                                  : "FiTv1-style: DDPM, predicts noise\(c.learnSigma ? " and variance" : "")"
            var lines = [
                "checkpoint:    \(checkpoint)",
                "configuration: \(model.source)",
                "preset:        \(preset?.rawValue ?? "none (tensors match no official model)")",
                "model:         \(family); \(latent ? (carried == nil ? "latent space (SD-VAE, 8×)" : "latent space of the VAE it carries (\(factor)×)") : "\(c.inChannels)-channel pixel space")",
                "network:       hidden \(c.hiddenSize), depth \(c.depth), heads \(c.numHeads) × \(c.headDim), patch \(c.patchSize), "
                    + "channels \(c.inChannels) → \(c.outChannels), \(c.useSwiglu ? "SwiGLU" : "GELU MLP") \(c.ffnHidden)",
                "conditioning:  adaLN \(c.usesLoRAAdaLN ? "LoRA r=\(c.adalnLoraDim ?? 0) + global" : "full 6D"), "
                    + "QK-norm \(c.qNorm ?? "none"), \(c.numClasses) classes\(c.classDropoutProb > 0 ? " + null class \(c.numClasses)" : "")",
                "parameters:    \(grouped(c.parameterCount)) expected; file holds \(grouped(shapes.values.reduce(0) { $0 + $1.reduce(1, *) })) "
                    + "in \(shapes.count) tensors (\(dtypes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")))",
                "RoPE:          \(c.customFreqs), decouple \(c.decouple), ori_max_pe_len \(c.defaultOriMaxPeLen); "
                    + "trained on ≤ \(c.contextSize) tokens; at most \(RoPE2D.maximumSide) tokens per side "
                    + "(\(RoPE2D.maximumSide * pixelsPerToken) px); sizes in steps of \(pixelsPerToken) px",
                "BLAS:          core \(BLASRuntime.coreName) (\(BLASRuntime.coreSource)), threads \(Parallel.threads); elementwise kernels: \(Kernels.instructionSet)",
                "precision:     --precision auto runs \(((try? Precision.resolve(.auto)) ?? .fp32).rawValue) here; fp32 on OpenBLAS, "
                    + "bf16 on oneDNN \(OneDNN.version) (\(OneDNN.isaName)\(OneDNN.hasNativeBFloat16 ? ", native bf16" : ": no native bf16, so bf16 is refused"))",
            ]
            if let carried {
                let v = carried.configuration
                lines.append("VAE:           carried (vae.*): block_out_channels \(v.blockOutChannels), layers_per_block \(v.layersPerBlock), "
                             + "\(v.latentChannels) → \(v.outChannels) channels, ×\(v.downsamplingFactor), scaling \(v.scalingFactor); "
                             + "\(grouped(v.decodeMACs(height: 1, width: 1))) multiply-adds per latent pixel")
            }
            if let advice = try? ModelMetadata(file: model.file).recommended, let ext = advice.extrapolation {
                lines.append("advice:        \(advice.interpolation ?? "the model's own") RoPE up to \(ext.trainedTokens) tokens and \(ext.trainedSide) per side "
                             + "(the trained sizes); beyond: \(RoPEScaling(name: ext.interpolation, decouple: ext.decouple == true)?.name ?? ext.interpolation)")
            }
            if !c.unknownKeys.isEmpty { lines.append("unknown keys:  \(c.unknownKeys.joined(separator: ", ")) (ignored)") }
            let others = model.file.metadata.keys.filter { $0 != "fit_config" }.sorted()
            if !others.isEmpty { lines.append("metadata:      \(others.joined(separator: ", "))") }
            var failure: FiTError?
            do {
                try FiT.verifyBinding(configuration: c, shapes: shapes)
                if let carried { _ = try carried.makeDecoder() }
                lines.append("binding:       ok (strict: every tensor present with its exact shape\(carried == nil ? "" : ", the VAE's too"))")
            } catch let error as FiTError {
                lines.append("binding:       FAILED")
                failure = error
            }
            print(lines.joined(separator: "\n"))
            if let failure { throw failure }
        }
    }

    /// What an SD-VAE file holds and whether the decoder binds.
    private func inspectVAE(_ path: String) throws {
        let vae = try VAECheckpoint(path: path)
        let c = vae.configuration
        let needed = c.tensorShapes()
        let decoderTensors = vae.file.entries.keys.filter { $0.hasPrefix("decoder.") || $0.hasPrefix("post_quant_conv.") }
        var lines = [
            "checkpoint:    \(checkpoint ?? path)",
            "kind:          SD-VAE (AutoencoderKL decoder, diffusers layout)",
            "configuration: \(vae.source)",
            "decoder:       block_out_channels \(c.blockOutChannels), layers_per_block \(c.layersPerBlock), "
                + "GroupNorm \(c.normNumGroups), mid attention \(c.midBlockAddAttention ? "yes" : "no"), "
                + "\(c.latentChannels) → \(c.outChannels) channels, ×\(c.downsamplingFactor)",
            "scaling:       latents ÷ \(c.scalingFactor) before decoding",
            "parameters:    \(grouped(needed.reduce(0) { $0 + $1.shape.reduce(1, *) })) in \(needed.count) decoder tensors; "
                + "file holds \(decoderTensors.count) decoder and \(vae.file.entries.count - decoderTensors.count) other (encoder) tensors",
            String(format: "cost:          %.0f GFLOP to decode 256×256 (%.0f as Winograd GEMMs)",
                   2 * Double(c.decodeMACs(height: 32, width: 32)) / 1e9, 2 * Double(c.decodeMACs(height: 32, width: 32, winograd: true)) / 1e9),
        ]
        do {
            _ = try vae.makeDecoder()
            lines.append("binding:       ok (strict: every decoder tensor present with its exact shape)")
            print(lines.joined(separator: "\n"))
        } catch {
            lines.append("binding:       FAILED")
            print(lines.joined(separator: "\n"))
            throw error
        }
    }

    private func grouped(_ n: Int) -> String {
        let digits = Array(String(n))
        return String(digits.enumerated().flatMap { i, ch in (i > 0 && (digits.count - i) % 3 == 0) ? [",", ch] : [ch] })
    }
}
