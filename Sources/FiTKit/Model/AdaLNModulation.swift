/// A block's adaLN modulation from the conditioning `SiLU(c)`: one Linear to 6·D (v1), or a
/// rank-r LoRA pair with no nonlinearity between them (v2), to which the model adds the
/// shared global modulation.
enum AdaLNModulation: Sendable {
    case full(Linear)
    case lowRank(down: Linear, up: Linear)

    /// Writes the (B, 6D) modulation for `rows` conditioning rows into `out`.
    func apply(_ siluC: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        switch self {
        case .full(let linear):
            linear.apply(siluC, rows: rows, into: out)
        case .lowRank(let down, let up):
            let mid = Tensor(zeros: [rows, down.outFeatures])
            down.apply(siluC, rows: rows, into: mid.data)
            up.apply(mid.data, rows: rows, into: out)
        }
    }
}
