/// Euler integration of the flow ODE on `torch.linspace(0, 1, steps + 1)`: `x ← x + h·v(x, t)`.
public struct EulerSampler: Sampler {
    let grid: [Float]
    private var index = 0

    public init(steps: Int) { grid = torchLinspace(0, 1, steps + 1) }

    public var plannedSteps: Int? { grid.count - 1 }

    public mutating func step(_ state: inout SamplerState) throws -> TrajectoryStep? {
        guard index + 1 < grid.count else { return nil }
        let t = grid[index], h = grid[index + 1] - grid[index]
        let x = state.x
        let v = SamplerState.leadingChannels(try state.model(x, t: t), x.shape[1])
        let next = x.adding(v, scaledBy: h)
        state.x = next
        index += 1
        return TrajectoryStep(index: index - 1, count: grid.count - 1, t: Double(t), progress: Double(grid[index]),
                              xt: state.visible(x), x0: state.visible(SamplerState.flowCleanEstimate(x, t: t, velocity: v)),
                              next: state.visible(next))
    }
}
