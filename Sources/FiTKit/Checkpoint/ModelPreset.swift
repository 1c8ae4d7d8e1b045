/// The released FiT models (docs/model.md §2.1, §5), recognised by their tensor names and shapes
/// when a checkpoint carries no configuration.
public enum ModelPreset: String, CaseIterable, Sendable {
    case fitv1XL = "fitv1-xl"
    case fitv2XL = "fitv2-xl"
    case fitv2ThreeB = "fitv2-3b"
    case fitv2HRXL = "fitv2-hr-xl"
    case fitv2HRThreeB = "fitv2-hr-3b"

    /// The official `network_config.params` of this model.
    public var configuration: FiTConfiguration {
        var c = FiTConfiguration()
        c.useSwiglu = true
        switch self {
        case .fitv1XL:
            c.depth = 28; c.useSwigluLarge = true; c.learnSigma = true
        case .fitv2XL, .fitv2HRXL, .fitv2ThreeB, .fitv2HRThreeB:
            let large = self == .fitv2ThreeB || self == .fitv2HRThreeB
            c.depth = large ? 40 : 36
            c.hiddenSize = large ? 2304 : 1152
            c.numHeads = large ? 24 : 16
            c.adalnLoraDim = large ? 576 : 288
            c.learnSigma = false; c.useSit = true
            c.qNorm = "layernorm"; c.kNorm = "layernorm"; c.adalnType = .lora
            if self == .fitv2HRXL || self == .fitv2HRThreeB {
                // Fine-tuned at up to 1024 tokens with VisionNTK (docs/model.md §3.4).
                c.contextSize = 1024; c.customFreqs = "ntk-aware"; c.decouple = true
                c.oriMaxPeLen = 16; c.onlineRope = true
            }
        }
        return c
    }

    /// Whether this is a 512 px (HR) fine-tune, whose shapes equal its base model's.
    public var isHighResolution: Bool { self == .fitv2HRXL || self == .fitv2HRThreeB }

    /// The preset whose tensors are exactly `shapes`. HR fine-tunes have the same shapes as
    /// their base models, so they are told apart by the file path (the official folders are
    /// named `…_HRFT`).
    public static func detect(shapes: [String: [Int]], path: String) -> ModelPreset? {
        let candidates = allCases.filter { preset in
            let expected = preset.configuration.tensorShapes()
            return expected.count == shapes.count && expected.allSatisfy { shapes[$0.name] == $0.shape }
        }
        let wantsHR = path.uppercased().contains("HR")
        return candidates.first { $0.isHighResolution == wantsHR } ?? candidates.first
    }
}
