/// Everything that determines one generation besides the model.
public struct SamplingParameters: Sendable, Equatable {
    /// One class id per image in the batch.
    public var classes: [Int]
    /// Size of the model's grid (latent cells for latent models, pixels for pixel models).
    public var height: Int
    public var width: Int
    /// Number of steps (DDPM/DDIM: respaced steps; Euler/Heun: integration steps; SDE: points
    /// of the time grid; dopri5: ignored, it chooses its own).
    public var steps: Int
    public var sampler: SamplerKind
    /// Classifier-free guidance scale; 1 (or less) runs without guidance, as the official samplers do.
    public var guidanceScale: Double
    /// Power of the cosine guidance schedule (0 = constant scale).
    public var scalePower: Double
    /// How many leading output channels guidance applies to; `nil` = the official 3 (all of a 3-channel model).
    public var guidedChannels: Int?
    /// Seed of the noise (PyTorch-compatible: only its low 32 bits matter).
    public var seed: UInt64
    /// RoPE extrapolation; `nil` uses the model's own.
    public var rope: RoPEScaling?

    public init(classes: [Int], height: Int, width: Int, steps: Int, sampler: SamplerKind,
                guidanceScale: Double = 1.5, scalePower: Double = 0, guidedChannels: Int? = nil,
                seed: UInt64 = 0, rope: RoPEScaling? = nil) {
        self.classes = classes
        self.height = height
        self.width = width
        self.steps = steps
        self.sampler = sampler
        self.guidanceScale = guidanceScale
        self.scalePower = scalePower
        self.guidedChannels = guidedChannels
        self.seed = seed
        self.rope = rope
    }
}
