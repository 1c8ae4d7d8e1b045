/// Heun's method (explicit trapezoid) on `torch.linspace(0, 1, steps + 1)`: an Euler predictor,
/// then the average of the velocities at both ends. Two model calls per step.
public struct HeunSampler: Sampler {
    let grid: [Float]
    private var index = 0

    public init(steps: Int) { grid = torchLinspace(0, 1, steps + 1) }

    public var plannedSteps: Int? { grid.count - 1 }

    public mutating func step(_ state: inout SamplerState) throws -> TrajectoryStep? {
        guard index + 1 < grid.count else { return nil }
        let (t0, t1) = (grid[index], grid[index + 1])
        let h = t1 - t0
        let x = state.x, channels = x.shape[1]
        let v1 = SamplerState.leadingChannels(try state.model(x, t: t0), channels)
        let predicted = x.adding(v1, scaledBy: h)
        let v2 = SamplerState.leadingChannels(try state.model(predicted, t: t1), channels)
        let next = x.adding(v1.zipMap(v2) { $0 + $1 }, scaledBy: h / 2)
        state.x = next
        index += 1
        return TrajectoryStep(index: index - 1, count: grid.count - 1, t: Double(t0), progress: Double(t1),
                              xt: state.visible(x), x0: state.visible(SamplerState.flowCleanEstimate(x, t: t0, velocity: v1)),
                              next: state.visible(next))
    }
}
