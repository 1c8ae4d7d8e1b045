extension FiTConfiguration {
    /// Multiply–accumulates of one forward pass over `batch` samples of `tokens` tokens: every
    /// Linear layer plus attention's QKᵀ and A·V (elementwise work is not counted).
    public func forwardMACs(batch: Int, tokens: Int) -> Int {
        let d = hiddenSize, rows = batch * tokens
        // Patch embedding; per block qkv (3d²), proj (d²) and the feed-forward; the output Linear.
        let perTokenLinear = patchDim * d + depth * (4 * d * d + (useSwiglu ? 3 : 2) * ffnHidden * d)
            + d * patchSize * patchSize * outChannels
        let attention = depth * batch * 2 * tokens * tokens * d
        var perSample = 256 * d + d * d + 2 * d * d // timestep MLP, final adaLN
        if usesLoRAAdaLN, let r = adalnLoraDim {
            perSample += 6 * d * d + depth * (d * r + r * 6 * d)
        } else {
            perSample += depth * 6 * d * d
        }
        return rows * perTokenLinear + attention + batch * perSample
    }
}
