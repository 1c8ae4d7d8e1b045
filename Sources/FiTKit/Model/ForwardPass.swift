/// Everything one forward pass shares across blocks: sizes, the conditioning, RoPE tables,
/// the padding mask and the scratch buffers (allocated once per pass, reused by every block).
final class ForwardPass {
    let batch: Int
    let tokens: Int
    let hidden: Int
    /// `SiLU(c)`, (B, D): the input of every adaLN modulation.
    let siluConditioning: Tensor
    /// The global adaLN modulation (B, 6D) added to every block's, or `nil` (v1).
    let globalModulation: Tensor?
    /// RoPE tables, (tokens, headDim).
    let cos: Tensor
    let sin: Tensor
    /// 1 for real tokens, 0 for padding, (B·tokens); `nil` when every token is real.
    let mask: [Float]?

    // Scratch buffers.
    let normed: Tensor
    let qkv: Tensor
    let attention: Tensor
    let scores: Tensor
    let gate: Tensor
    let value: Tensor
    let modulation: Tensor

    var rows: Int { batch * tokens }

    init(batch: Int, tokens: Int, configuration: FiTConfiguration, siluConditioning: Tensor,
         globalModulation: Tensor?, cos: Tensor, sin: Tensor, mask: [Float]?) {
        self.batch = batch
        self.tokens = tokens
        self.hidden = configuration.hiddenSize
        self.siluConditioning = siluConditioning
        self.globalModulation = globalModulation
        self.cos = cos
        self.sin = sin
        self.mask = mask
        let rows = batch * tokens, d = configuration.hiddenSize
        normed = Tensor(zeros: [rows, d])
        qkv = Tensor(zeros: [rows, 3 * d])
        attention = Tensor(zeros: [rows, d])
        scores = Tensor(zeros: [tokens, tokens])
        gate = Tensor(zeros: [rows, configuration.ffnHidden])
        value = Tensor(zeros: [rows, configuration.ffnHidden])
        modulation = Tensor(zeros: [batch, 6 * d])
    }

    /// Writes `LN(x)·(1 + scale) + shift` for every row into ``normed``, with `shift` and
    /// `scale` taken per sample from `modulation` at the given chunk indices (of width D).
    func normalizeAndModulate(_ x: Tensor, modulation: Tensor, shiftChunk: Int, scaleChunk: Int, chunks: Int) {
        let d = hidden, n = tokens
        Parallel.forEachChunk(count: rows, minimumChunk: 16) { range in
            for r in range {
                let m = modulation.data + (r / n) * chunks * d
                Kernels.layerNorm(x.data + r * d, into: normed.data + r * d, count: d,
                                  shift: m + shiftChunk * d, scale: m + scaleChunk * d)
            }
        }
    }

    /// `x ← x + gate ⊙ y` per row with the per-sample gate at chunk `gateChunk` of ``modulation``.
    func gatedResidual(_ y: Tensor, into x: Tensor, gateChunk: Int) {
        let d = hidden, n = tokens
        Parallel.forEachChunk(count: rows, minimumChunk: 32) { range in
            for r in range {
                Kernels.gatedAdd(y.data + r * d, gate: modulation.data + (r / n) * 6 * d + gateChunk * d,
                                 to: x.data + r * d, count: d)
            }
        }
    }

    /// Sample `b`'s part of ``mask`` (one value per token), or `nil` when every token is real.
    func mask(ofSample b: Int) -> [Float]? {
        mask.map { Array($0[(b * tokens)..<((b + 1) * tokens)]) }
    }

    /// Zeroes the rows of `x` (row width `width`) that are padding.
    func applyMask(_ x: Tensor, width: Int) {
        guard let mask else { return }
        for r in 0..<rows where mask[r] == 0 { (x.data + r * width).update(repeating: 0, count: width) }
    }
}
