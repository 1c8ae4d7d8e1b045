/// The sampling methods: DDPM and DDIM for FiTv1 (noise prediction), rectified-flow ODE and SDE
/// integrators for FiTv2 (velocity prediction).
public enum SamplerKind: String, CaseIterable, Sendable, Codable {
    /// Ancestral DDPM with learned-range variance on the respaced schedule (the official v1 sampler).
    case ddpm
    /// Deterministic DDIM (η = 0) on the respaced schedule.
    case ddim
    /// Euler on a uniform grid from t = 0 (noise) to 1 (data).
    case euler
    /// Heun (explicit trapezoid) on the uniform grid: two model calls per step.
    case heun
    /// Adaptive Dormand–Prince 5(4) with the official tolerances (atol 1e-6, rtol 1e-3).
    case dopri5
    /// Euler–Maruyama on the official SDE (the v2 script's default mode).
    case sde

    /// Whether this sampler drives a flow (velocity) model rather than a DDPM (noise) model.
    public var isFlow: Bool { self != .ddpm && self != .ddim }

    /// The samplers that fit a model: flow samplers for `use_sit` models, DDPM/DDIM otherwise.
    public static func available(for configuration: FiTConfiguration) -> [SamplerKind] {
        allCases.filter { $0.isFlow == configuration.useSit }
    }
}
