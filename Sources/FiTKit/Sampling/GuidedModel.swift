import Foundation

/// The model as the samplers call it: classifier-free guidance exactly as the official
/// `forward_with_cfg` does it.
///
/// With guidance (scale > 1) the sampler's state has 2B rows, [conditional | unconditional].
/// One forward of 2B rows runs on the conditional half twice, with labels [y, null]; the first
/// `guidedChannels` output channels of both halves become `uncond + s·(cond − uncond)`, the
/// other channels stay per half. Without guidance the state has B rows and the plain forward runs.
public final class GuidedModel {
    public let model: FiT
    public let classes: [Int]
    public let guidanceScale: Double
    public let scalePower: Double
    public let guidedChannels: Int
    public let rope: RoPEScaling?
    /// Model evaluations so far (one forward of all rows each).
    public private(set) var evaluations = 0
    /// Seconds spent inside the network's forward passes so far (for benchmarks).
    public private(set) var forwardSeconds = 0.0

    public init(model: FiT, parameters p: SamplingParameters) {
        self.model = model
        classes = p.classes
        guidanceScale = p.guidanceScale
        scalePower = p.scalePower
        guidedChannels = min(p.guidedChannels ?? 3, model.configuration.inChannels)
        rope = p.rope
    }

    /// Images in the batch.
    public var batch: Int { classes.count }
    /// Whether the unconditional branch runs.
    public var usesGuidance: Bool { guidanceScale > 1 }
    /// Rows of the sampler's state.
    public var rows: Int { usesGuidance ? 2 * batch : batch }

    /// The guidance scale at model time `t`: constant, or the power-cosine schedule
    /// `(s − 1)·(1 − cos(((1 − min(t, 1))^pow)·π))/2 + 1`.
    public func scale(at t: Float) -> Float {
        guard scalePower != 0 else { return Float(guidanceScale) }
        let s = Float(guidanceScale)
        let base = 1 - min(t, 1)
        let step = (1 - cos(pow(base, Float(scalePower)) * .pi)) / 2
        return (s - 1) * step + 1
    }

    private func timed(_ body: () throws -> Tensor) rethrows -> Tensor {
        let start = DispatchTime.now().uptimeNanoseconds
        defer { forwardSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        return try body()
    }

    /// The model output (rows, C_out, H, W) for the state `x` (rows, C, H, W) at model time `t`.
    public func callAsFunction(_ x: Tensor, t: Float) throws -> Tensor {
        evaluations += 1
        guard usesGuidance else {
            return try timed { try model.forward(x, t: Array(repeating: t, count: batch), y: classes, rope: rope) }
        }
        let b = batch
        let half = x.batch(0..<b)
        let nullClass = model.configuration.numClasses
        let out = try timed {
            try model.forward(Tensor.concatenatingBatches([half, half]), t: Array(repeating: t, count: 2 * b),
                              y: classes + Array(repeating: nullClass, count: b), rope: rope)
        }
        let (c, h, w) = (out.shape[1], out.shape[2], out.shape[3])
        let plane = h * w, s = scale(at: t)
        for i in 0..<b {
            for ch in 0..<guidedChannels {
                let cond = out.data + (i * c + ch) * plane, uncond = out.data + ((i + b) * c + ch) * plane
                for k in 0..<plane {
                    let g = uncond[k] + s * (cond[k] - uncond[k])
                    cond[k] = g
                    uncond[k] = g
                }
            }
        }
        return out
    }
}
