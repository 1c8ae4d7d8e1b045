/// A sampling method: advances the state one step at a time, recording what it did.
///
/// Implementations hold their own schedule and step counter. The state has the guided model's
/// `rows` rows (2B with guidance, as the official samplers integrate it); steps report the
/// first B rows.
public protocol Sampler {
    /// Steps this sampler will take, when known in advance.
    var plannedSteps: Int? { get }
    /// Advances `state` by one step, or returns `nil` when the trajectory is complete.
    mutating func step(_ state: inout SamplerState) throws -> TrajectoryStep?
}

/// What a sampler works on: the current state, the model, and the noise stream.
public struct SamplerState {
    /// The current sample, (rows, C, H, W).
    public var x: Tensor
    public let model: GuidedModel
    public var noise: any NoiseSource
    public let height: Int
    public let width: Int

    /// Fresh noise for every row of the state, drawn the official way (see ``NoiseSource/image(rows:configuration:height:width:)``).
    mutating func drawNoise() -> Tensor {
        noise.image(rows: model.rows, configuration: model.model.configuration, height: height, width: width)
    }

    /// The first B rows of `t` (the samples the caller asked for).
    func visible(_ t: Tensor) -> Tensor { t.shape[0] == model.batch ? t : t.batch(0..<model.batch) }

    /// Only the first `channels` channels of each row of `t`.
    static func leadingChannels(_ t: Tensor, _ channels: Int) -> Tensor {
        let (rows, c, plane) = (t.shape[0], t.shape[1], t.shape[2] * t.shape[3])
        if c == channels { return t }
        let out = Tensor(zeros: [rows, channels, t.shape[2], t.shape[3]])
        for r in 0..<rows { (out.data + r * channels * plane).update(from: t.data + r * c * plane, count: channels * plane) }
        return out
    }

    /// The flow model's clean estimate `x + (1 − t)·v`.
    static func flowCleanEstimate(_ x: Tensor, t: Float, velocity v: Tensor) -> Tensor {
        x.adding(v, scaledBy: 1 - t)
    }
}

/// `torch.linspace(start, end, count)` in float32, value for value: the step is a float32, the
/// first half counts up from `start` and the second half down from `end`.
func torchLinspace(_ start: Float, _ end: Float, _ count: Int) -> [Float] {
    guard count > 1 else { return count == 1 ? [start] : [] }
    let step = (end - start) / Float(count - 1)
    let halfway = count / 2
    return (0..<count).map { i in i < halfway ? start + step * Float(i) : end - step * Float(count - i - 1) }
}
