/// A block's feed-forward layer: SwiGLU (timm's: `fc2(SiLU(fc1_g(x)) ⊙ fc1_x(x))`, every released
/// FiT) or the GELU-tanh MLP (`fc2(GELU(fc1(x)))`, the official default when `use_swiglu` is false).
enum FeedForward: Sendable {
    case swiGLU(gate: Linear, value: Linear, down: Linear)
    case gelu(up: Linear, down: Linear)

    /// Feeds ``ForwardPass/normed`` through the layer, writing the result back into `normed`.
    func callAsFunction(_ pass: ForwardPass) {
        let rows = pass.rows
        switch self {
        case .swiGLU(let gate, let value, let down):
            let f = gate.outFeatures
            gate.apply(pass.normed.data, rows: rows, into: pass.gate.data)
            value.apply(pass.normed.data, rows: rows, into: pass.value.data)
            Parallel.forEachChunk(count: rows, minimumChunk: 16) { range in
                for r in range { Kernels.siluMultiply(gate: pass.gate.data + r * f, value: pass.value.data + r * f, count: f) }
            }
            down.apply(pass.gate.data, rows: rows, into: pass.normed.data)
        case .gelu(let up, let down):
            let f = up.outFeatures
            up.apply(pass.normed.data, rows: rows, into: pass.gate.data)
            Parallel.forEachChunk(count: rows, minimumChunk: 16) { range in
                for r in range { Kernels.geluTanh(pass.gate.data + r * f, count: f) }
            }
            down.apply(pass.gate.data, rows: rows, into: pass.normed.data)
        }
    }
}
