/// The SwiGLU feed-forward layer (timm's): `fc2(SiLU(fc1_g(x)) ⊙ fc1_x(x))`.
struct SwiGLU: Sendable {
    let gate: Linear
    let value: Linear
    let down: Linear

    /// Feeds ``ForwardPass/normed`` through the layer, writing the result back into `normed`.
    func callAsFunction(_ pass: ForwardPass) {
        let rows = pass.rows, f = gate.outFeatures
        gate.apply(pass.normed.data, rows: rows, into: pass.gate.data)
        value.apply(pass.normed.data, rows: rows, into: pass.value.data)
        Parallel.forEachChunk(count: rows, minimumChunk: 16) { range in
            for r in range { Kernels.siluMultiply(gate: pass.gate.data + r * f, value: pass.value.data + r * f, count: f) }
        }
        down.apply(pass.gate.data, rows: rows, into: pass.normed.data)
    }
}
