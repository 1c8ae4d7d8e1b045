/// The official SDE sampler of FiTv2 (SiT's Euler–Maruyama): diffusion `w(t) = 1 − t`, the
/// linear path's score `(t·v − x)/((1 − t)² + t(1 − t))`, on `torch.linspace(0, 0.96, steps)`,
/// then a last noise-free step of 0.04. Noise is drawn before each stochastic step.
public struct EulerMaruyamaSampler: Sampler {
    static let lastStepSize: Float = 0.04
    let grid: [Float]
    private var index = 0

    /// `steps` points of the time grid (at least 2): `steps − 1` stochastic steps and the last step.
    public init(steps: Int) { grid = torchLinspace(0, 1 - Self.lastStepSize, steps) }

    public var plannedSteps: Int? { grid.count }

    /// The drift `v + w·score` and the diffusion `w = 1 − t` at time `t`.
    static func drift(_ x: Tensor, _ v: Tensor, t: Float) -> (Tensor, Float) {
        let diffusion = 1 - t
        let sigma = 1 - t
        let variance = sigma * sigma + t * sigma
        return (x.zipMap(v) { xv, vv in vv + diffusion * ((t * vv - xv) / variance) }, diffusion)
    }

    public mutating func step(_ state: inout SamplerState) throws -> TrajectoryStep? {
        guard index < grid.count else { return nil }
        let x = state.x, channels = x.shape[1]
        let last = index == grid.count - 1
        let t = last ? 1 - Self.lastStepSize : grid[index]
        let next: Tensor, v: Tensor
        if last {
            v = SamplerState.leadingChannels(try state.model(x, t: t), channels)
            next = x.adding(Self.drift(x, v, t: t).0, scaledBy: Self.lastStepSize)
        } else {
            let z = state.drawNoise()
            let dt = grid[1] - grid[0]
            v = SamplerState.leadingChannels(try state.model(x, t: t), channels)
            let (drift, diffusion) = Self.drift(x, v, t: t)
            let mean = x.adding(drift, scaledBy: dt)
            let noiseScale = (2 * diffusion).squareRoot(), rootDt = dt.squareRoot()
            next = mean.zipMap(z) { $0 + noiseScale * ($1 * rootDt) }
        }
        state.x = next
        index += 1
        return TrajectoryStep(index: index - 1, count: grid.count, t: Double(t),
                              progress: last ? 1 : Double(grid[index]),
                              xt: state.visible(x), x0: state.visible(SamplerState.flowCleanEstimate(x, t: t, velocity: v)),
                              next: state.visible(next))
    }
}
