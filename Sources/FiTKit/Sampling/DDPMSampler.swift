import Foundation

/// FiTv1's samplers on the respaced DDPM schedule: ancestral DDPM with learned-range variance
/// (the official sampler), or deterministic DDIM (η = 0). The model sees the original integer
/// timestep; schedule coefficients are float64 values used as float32, as the official code does.
public struct DDPMSampler: Sampler {
    let schedule: DDPMSchedule
    /// DDIM (η = 0) instead of ancestral DDPM.
    let deterministic: Bool
    private var index = 0

    public init(steps: Int, deterministic: Bool) throws {
        schedule = try DDPMSchedule(steps: steps)
        self.deterministic = deterministic
    }

    public var plannedSteps: Int? { schedule.count }

    public mutating func step(_ state: inout SamplerState) throws -> TrajectoryStep? {
        guard index < schedule.count else { return nil }
        let i = schedule.count - 1 - index
        let timestep = schedule.timesteps[i]
        let out = try state.model(state.x, t: Float(timestep))
        let channels = state.model.model.configuration.inChannels
        let x = state.x, plane = x.count / x.shape[0] / channels
        let (c1, c2) = schedule.predictionCoefficients(i)
        let (r1, r2) = (Float(c1), Float(c2))
        // ε: the first C output channels; the variance value: the next C.
        let eps = SamplerState.leadingChannels(out, channels)
        let x0 = x.zipMap(eps) { r1 * $0 - r2 * $1 }
        let z = state.drawNoise() // drawn after the model call, every step (official order)
        let next: Tensor
        if deterministic {
            let previous = Float(schedule.alphasCumprodPrevious[i])
            let epsAgain = x.zipMap(x0) { (r1 * $0 - $1) / r2 }
            next = x0.zipMap(epsAgain) { $0 * previous.squareRoot() + (1 - previous).squareRoot() * $1 }
        } else {
            let (m1, m2) = schedule.posteriorMeanCoefficients(i)
            let (mean1, mean2) = (Float(m1), Float(m2))
            let minLog = Float(schedule.posteriorLogVarianceClipped(i)), maxLog = Float(log(schedule.betas[i]))
            let nonzero: Float = i == 0 ? 0 : 1
            let out2C = out.shape[1]
            next = Tensor(zeros: x.shape)
            for r in 0..<x.shape[0] {
                for e in 0..<(channels * plane) {
                    let at = r * channels * plane + e
                    let v = out.data[r * out2C * plane + channels * plane + e]
                    let frac = (v + 1) / 2
                    let logVariance = frac * maxLog + (1 - frac) * minLog
                    let mean = mean1 * x0.data[at] + mean2 * x.data[at]
                    next.data[at] = mean + nonzero * Foundation.exp(0.5 * logVariance) * z.data[at]
                }
            }
        }
        state.x = next
        index += 1
        return TrajectoryStep(index: index - 1, count: schedule.count, t: Double(timestep),
                              progress: Double(index) / Double(schedule.count),
                              xt: state.visible(x), x0: state.visible(x0), next: state.visible(next))
    }
}
