import FiTKit

/// RoPE extrapolation choices offered in the explorer (the "Vision" methods decouple the axes).
/// `auto` takes the model's recommendation for the size (see ``ModelInfo/rope(for:)``).
enum Extrapolation: String, CaseIterable, Sendable {
    case auto = "auto", none = "none", visionNTK = "VisionNTK", visionYaRN = "VisionYaRN", visionNTKAttention = "VisionNTK+attn"

    /// The RoPE setting, `nil` meaning the model's own (for `auto`: before the model's advice).
    var scaling: RoPEScaling? {
        switch self {
        case .auto, .none: return nil
        case .visionNTK: return RoPEScaling(interpolation: .dynntk, decouple: true)
        case .visionYaRN: return RoPEScaling(interpolation: .yarn, decouple: true)
        case .visionNTKAttention: return RoPEScaling(interpolation: .ntkpro2, decouple: true)
        }
    }
}

/// What the next generation will use.
struct GenerationSettings: Equatable, Sendable {
    var classID: Int
    var width: Int
    var height: Int
    var steps: Int
    var sampler: SamplerKind
    var cfg: Double
    var seed: UInt64
    var extrapolation: Extrapolation
}

/// What the explorer knows about the loaded model (pure data, no weights).
struct ModelInfo: Equatable, Sendable {
    var name: String
    var classNames: [String]
    var samplers: [SamplerKind]
    /// Size presets in pixels (by aspect ratio, at and beyond the training size).
    var sizePresets: [SizePreset]
    var sizeStep: Int
    var maximumSide: Int
    var defaults: GenerationSettings
    /// Whether per-step pictures are approximations (latent models with a large VAE: the
    /// linear latent→RGB preview); then final images and requested steps are decoded with the VAE.
    var previewsAreApproximate = false
    /// The model's advice, for `auto` RoPE (which setting beyond the trained sizes).
    var recommended = ModelMetadata.RecommendedSampling()
    /// The transformer's precision (`--precision`), shown in the sidebar.
    var precision = Precision.fp32
    /// Pixels per cell of the model's grid (the VAE factor for latent models); nil: `sizeStep`
    /// (patch 1). The RoPE advice is given in cells.
    var pixelsPerCell: Int?

    static func == (a: ModelInfo, b: ModelInfo) -> Bool {
        a.name == b.name && a.classNames == b.classNames && a.defaults == b.defaults
            && a.previewsAreApproximate == b.previewsAreApproximate && a.recommended == b.recommended
            && a.precision == b.precision && a.pixelsPerCell == b.pixelsPerCell
            && a.sizePresets == b.sizePresets
    }

    /// The RoPE setting a generation with `s` uses: the chosen method, or for `auto` the model's
    /// recommendation for its size (`nil`: the model's own).
    func rope(for s: GenerationSettings) -> RoPEScaling? {
        guard s.extrapolation == .auto else { return s.extrapolation.scaling }
        let cell = pixelsPerCell ?? sizeStep
        return recommended.rope(height: s.height / cell, width: s.width / cell)
    }

    /// What generating `s` asks of the pipeline (the RoPE setting resolved here, as shown).
    func request(for s: GenerationSettings) -> GenerationRequest {
        GenerationRequest(classLabel: String(s.classID), width: s.width, height: s.height, steps: s.steps, sampler: s.sampler,
                          cfg: s.cfg, seed: s.seed, rope: rope(for: s).map { .explicit($0) } ?? .modelDefault)
    }

    /// The explicit method `s` uses: its own, or for `auto` the one the advice resolves to
    /// (`nil` when the advice names a method the explorer does not list).
    func resolvedExtrapolation(_ s: GenerationSettings) -> Extrapolation? {
        guard s.extrapolation == .auto else { return s.extrapolation }
        guard let chosen = rope(for: s), chosen.interpolation != .no else { return Extrapolation.none }
        return Extrapolation.allCases.first { $0 != .auto && $0.scaling?.interpolation == chosen.interpolation
            && $0.scaling?.decouple == chosen.decouple }
    }

    /// How the RoPE row reads: the method, and for `auto` what it resolves to at this size.
    func ropeLabel(for s: GenerationSettings) -> String {
        guard s.extrapolation == .auto else { return s.extrapolation.rawValue }
        let name = resolvedExtrapolation(s)?.rawValue ?? rope(for: s)?.name ?? "none"
        return "auto: \(name)"
    }

    /// `width × height` snapped to the nearest size the model can make.
    func snapped(width: Int, height: Int) -> (Int, Int) {
        ImageGeometry.snapped(width: width, height: height, step: sizeStep, maximumSide: maximumSide)
    }

    func className(_ id: Int) -> String { id < classNames.count ? classNames[id] : "class \(id)" }
}
