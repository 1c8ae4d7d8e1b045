/// One step of a denoising trajectory, as the caller sees it.
public struct TrajectoryStep: Sendable {
    /// 0-based step number.
    public let index: Int
    /// Steps in the whole trajectory, when known in advance (dopri5 chooses as it goes: `nil`).
    public let count: Int?
    /// The model time of this step: the DDPM timestep (999 … 0) for v1, flow time (0 … 1) for v2.
    public let t: Double
    /// How far the trajectory has come, 0 (pure noise) … 1 (done), after this step.
    public let progress: Double
    /// The state the model saw at this step (B, C, H, W).
    public let xt: Tensor
    /// The model's estimate of the clean sample at this step (B, C, H, W).
    public let x0: Tensor
    /// The state after this step; after the last step, the final sample.
    public let next: Tensor
}
