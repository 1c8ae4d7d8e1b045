/// One FiT block: adaLN-Zero around masked RoPE attention and a SwiGLU feed-forward.
///
///     x = x + gate_msa ⊙ Attn(modulate(LN(x), shift_msa, scale_msa))
///     x = x + gate_mlp ⊙ FFN(modulate(LN(x), shift_mlp, scale_mlp))
///
/// The modulation chunks are, in order: shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp.
struct FiTBlock: Sendable {
    let attention: Attention
    let feedForward: FeedForward
    let modulation: AdaLNModulation

    /// Updates the residual stream `x` (B·N, D) in place.
    func callAsFunction(_ x: Tensor, _ pass: ForwardPass) {
        let mod = pass.modulation
        modulation.apply(pass.siluConditioning.data, rows: pass.batch, into: mod.data)
        if let global = pass.globalModulation { Kernels.add(global.data, to: mod.data, count: mod.count) }

        pass.normalizeAndModulate(x, modulation: mod, shiftChunk: 0, scaleChunk: 1, chunks: 6)
        attention(pass)
        attention.proj.apply(pass.attention.data, rows: pass.rows, into: pass.normed.data)
        pass.gatedResidual(pass.normed, into: x, gateChunk: 2)

        pass.normalizeAndModulate(x, modulation: mod, shiftChunk: 3, scaleChunk: 4, chunks: 6)
        feedForward(pass)
        pass.gatedResidual(pass.normed, into: x, gateChunk: 5)
    }
}
