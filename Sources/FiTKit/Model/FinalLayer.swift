/// The output head: plain adaLN (shift first, then scale; no global modulation), LayerNorm,
/// and a Linear to `patch² · out_channels` values per token (keys `final_layer.*`).
struct FinalLayer: Sendable {
    let modulation: Linear
    let linear: Linear

    /// The (B·N, patch²·C_out) output for the residual stream `x`.
    func callAsFunction(_ x: Tensor, _ pass: ForwardPass) -> Tensor {
        let mod = Tensor(zeros: [pass.batch, 2 * pass.hidden])
        modulation.apply(pass.siluConditioning.data, rows: pass.batch, into: mod.data)
        pass.normalizeAndModulate(x, modulation: mod, shiftChunk: 0, scaleChunk: 1, chunks: 2)
        let out = Tensor(zeros: [pass.rows, linear.outFeatures])
        linear.apply(pass.normed.data, rows: pass.rows, into: out.data)
        pass.applyMask(out, width: linear.outFeatures)
        return out
    }
}
