import Foundation

/// The timestep embedding (as DiT's): a 256-wide sinusoidal code, cosines first, through
/// Linear → SiLU → Linear (keys `t_embedder.mlp.0`, `t_embedder.mlp.2`).
struct TimestepEmbedder: Sendable {
    static let frequencyCount = 256
    let first: Linear
    let second: Linear

    /// The sinusoidal code of each `t`: `[cos(t·f_k), sin(t·f_k)]`, `f_k = 10000^(−k/128)`.
    static func frequencyEmbedding(_ t: [Double]) -> Tensor {
        let half = frequencyCount / 2
        let out = Tensor(zeros: [t.count, frequencyCount])
        for (b, value) in t.enumerated() {
            for k in 0..<half {
                let arg = value * exp(-log(10000.0) * Double(k) / Double(half))
                out.data[b * frequencyCount + k] = Float(cos(arg))
                out.data[b * frequencyCount + half + k] = Float(sin(arg))
            }
        }
        return out
    }

    /// The (B, hidden) embedding of `t`.
    func callAsFunction(_ t: [Double]) -> Tensor {
        let code = Self.frequencyEmbedding(t)
        let hidden = Tensor(zeros: [t.count, first.outFeatures])
        first.apply(code.data, rows: t.count, into: hidden.data)
        Kernels.silu(hidden.data, count: hidden.count)
        let out = Tensor(zeros: [t.count, second.outFeatures])
        second.apply(hidden.data, rows: t.count, into: out.data)
        return out
    }
}
