import Foundation

/// The 2-D rotary position embedding of FiT and its extrapolation methods (docs/model.md §2.9, §3).
///
/// Each head splits in two halves: the first rotates by the token's row, the second by its
/// column; inside a half, dims (2j, 2j+1) form a pair sharing frequency j. Extrapolation
/// changes the per-axis frequencies and may scale cos and sin (which scales the logits by its square).
public enum RoPE2D {
    /// Largest token index per axis (the official `max_cached_len`).
    public static let maximumSide = 256

    /// Per-axis frequencies (length `headDim / 4`) and the cos/sin multiplier for one grid.
    public struct Frequencies: Sendable, Equatable {
        public var height: [Double]
        public var width: [Double]
        public var multiplier: Double
    }

    /// The frequencies for a grid of `rows × columns` tokens.
    public static func frequencies(headDim: Int, theta: Double, scaling: RoPEScaling, oriMaxPeLen: Int,
                                   rows: Int, columns: Int) -> Frequencies {
        let dim = headDim / 2
        let L = Double(oriMaxPeLen)
        func stretch(_ n: Int) -> Double { max(Double(n) / L, 1) }
        let (sH, sW) = scaling.decouple ? (stretch(rows), stretch(columns))
                                        : (stretch(max(rows, columns)), stretch(max(rows, columns)))
        func axis(_ s: Double) -> [Double] {
            let plain = baseFrequencies(dim: dim, theta: theta)
            switch scaling.interpolation {
            case .no:
                return plain
            case .linear:
                return plain.map { $0 / s }
            case .dynntk, .ntkpro1, .ntkpro2:
                return baseFrequencies(dim: dim, theta: theta * pow(s, Double(dim) / Double(dim - 2)))
            case .yarn:
                let keep = oneMinusRamp(correctionRange(fast: 32, slow: 1, dim: dim, theta: theta, L: L), count: dim / 2)
                return zip(plain, keep).map { f, g in f / s * (1 - g) + f * g }
            case .partntk:
                let ntk = baseFrequencies(dim: dim, theta: theta * pow(s, Double(dim) / Double(dim - 2)))
                let m1 = oneMinusRamp(correctionRange(fast: 1.25, slow: 0.75, dim: dim, theta: theta, L: L), count: dim / 2)
                let m2 = oneMinusRamp(correctionRange(fast: 16, slow: 2, dim: dim, theta: theta, L: L), count: dim / 2)
                return (0..<dim / 2).map { j in
                    let blended = plain[j] / s * (1 - m1[j]) + ntk[j] * m1[j]
                    return blended * (1 - m2[j]) + plain[j] * m2[j]
                }
            }
        }
        let multiplier: Double
        switch scaling.interpolation {
        case .yarn:
            let S = stretch(max(rows, columns))
            multiplier = S > 1 ? 0.1 * log(S) + 1 : 1
        case .ntkpro1:
            multiplier = attentionProportion(test: Double(max(rows, columns)), train: L)
        case .ntkpro2:
            multiplier = attentionProportion(test: Double(rows * columns), train: L * L)
        default:
            multiplier = 1
        }
        return Frequencies(height: axis(sH), width: axis(sW), multiplier: multiplier)
    }

    /// `θ_j = theta^(−2j/dim)`, j = 0 ..< dim/2.
    static func baseFrequencies(dim: Int, theta: Double) -> [Double] {
        (0..<dim / 2).map { j in 1 / pow(theta, Double(2 * j) / Double(dim)) }
    }

    /// YaRN's dimension range whose wavelengths fall between `fast` and `slow` rotations over `L` positions.
    static func correctionRange(fast: Double, slow: Double, dim: Int, theta: Double, L: Double) -> (Double, Double) {
        func correctionDim(_ rotations: Double) -> Double {
            Double(dim) * log(L / (rotations * 2 * Double.pi)) / (2 * log(theta))
        }
        let low = max(correctionDim(fast).rounded(.down), 0)
        let high = min(correctionDim(slow).rounded(.up), Double(dim - 1))
        return (low, high)
    }

    /// `1 − clip((j − low)/(high − low), 0, 1)`: 1 keeps a frequency, 0 interpolates it.
    static func oneMinusRamp(_ range: (Double, Double), count: Int) -> [Double] {
        let (low, high0) = range
        let high = low == high0 ? high0 + 0.001 : high0
        return (0..<count).map { j in 1 - min(max((Double(j) - low) / (high - low), 0), 1) }
    }

    /// The official attention-scale proportion: 1 when `2·test ≤ train`, else √(ln(2·test)/ln(train)).
    static func attentionProportion(test: Double, train: Double) -> Double {
        2 * test / train <= 1 ? 1 : (log(2 * test) / log(train)).squareRoot()
    }

    /// cos and sin tables, each (rows·columns) × headDim, for row-major tokens, with the multiplier applied.
    public static func tables(_ f: Frequencies, headDim: Int, rows: Int, columns: Int) -> (cos: Tensor, sin: Tensor) {
        let n = rows * columns
        let cosT = Tensor(zeros: [n, headDim]), sinT = Tensor(zeros: [n, headDim])
        let half = headDim / 2
        for token in 0..<n {
            let r = Double(token / columns), c = Double(token % columns)
            for d in 0..<headDim {
                let angle = d < half ? r * f.height[d / 2] : c * f.width[(d - half) / 2]
                cosT.data[token * headDim + d] = Float(cos(angle) * f.multiplier)
                sinT.data[token * headDim + d] = Float(sin(angle) * f.multiplier)
            }
        }
        return (cosT, sinT)
    }
}
