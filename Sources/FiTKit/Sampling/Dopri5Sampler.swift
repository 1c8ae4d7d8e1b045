import Foundation

/// Adaptive Dormand–Prince 5(4) on the flow ODE from t = 0 to 1, as torchdiffeq's `dopri5`
/// runs it for the official sampler: atol 1e-6, rtol 1e-3, RMS error norm over the whole state,
/// Hairer's initial step, safety 0.9, growth ≤ 10, shrink ≥ 0.2, and the last step allowed to
/// pass t = 1, whose value is then read from the step's 4th-order dense output.
///
/// Each accepted step is one trajectory step; rejected attempts happen inside it.
public struct Dopri5Sampler: Sampler {
    public static let absoluteTolerance = 1e-6
    public static let relativeTolerance = 1e-3
    /// The most model evaluations a dopri5 trajectory may spend by default (a normal run takes
    /// 100–300; an extreme guidance scale makes the ODE stiff and the step size collapse).
    public static let defaultMaximumEvaluations = 3000
    /// This sampler's evaluation budget; exceeding it stops the trajectory with an error.
    public let maximumEvaluations: Int

    // Dormand–Prince tableau (torchdiffeq's, used in float32 like the state).
    static let alpha: [Double] = [1 / 5, 3 / 10, 4 / 5, 8 / 9, 1, 1]
    static let beta: [[Double]] = [
        [1 / 5],
        [3 / 40, 9 / 40],
        [44 / 45, -56 / 15, 32 / 9],
        [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729],
        [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
        [35 / 384, 0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84],
    ]
    static let errorWeights: [Double] = [35 / 384 - 1951 / 21600, 0, 500 / 1113 - 22642 / 50085, 125 / 192 - 451 / 720,
                                         -2187 / 6784 - -12231 / 42400, 11 / 84 - 649 / 6300, -1 / 60]
    static let midpointWeights: [Double] = [6025192743 / 30085553152 / 2, 0, 51252292925 / 65400821598 / 2,
                                            -2691868925 / 45128329728 / 2, 187940372067 / 1594534317056 / 2,
                                            -1776094331 / 19743644256 / 2, 11237099 / 235043384 / 2]

    private var t = 0.0
    private var dt: Double?
    private var derivative: Tensor?
    private var accepted = 0
    private var finished = false
    /// Rejected attempts so far.
    public private(set) var rejected = 0

    public init(maximumEvaluations: Int = Dopri5Sampler.defaultMaximumEvaluations) {
        self.maximumEvaluations = maximumEvaluations
    }

    public var plannedSteps: Int? { nil }

    /// RMS of `numerator / (atol + rtol·denominator)` over every element (computed in double).
    static func scaledNorm(_ numerator: Tensor, _ denominator: Tensor) -> Double {
        var sum = 0.0
        for i in 0..<numerator.count {
            let scale = absoluteTolerance + relativeTolerance * Double(denominator.data[i])
            let v = Double(numerator.data[i]) / scale
            sum += v * v
        }
        return (sum / Double(numerator.count)).squareRoot()
    }

    /// `y + Σ kⱼ·(wⱼ·h)` in float32.
    static func advance(_ y: Tensor, _ ks: [Tensor], weights: [Double], h: Float) -> Tensor {
        let coefficients = zip(weights, ks).map { (Float($0.0) * h, $0.1) }.filter { $0.0 != 0 }
        let out = y.copy()
        for i in 0..<out.count {
            var s: Float = 0
            for (c, k) in coefficients { s += k.data[i] * c }
            out.data[i] += s
        }
        return out
    }

    private static func velocity(_ state: inout SamplerState, _ y: Tensor, _ t: Double) throws -> Tensor {
        SamplerState.leadingChannels(try state.model(y, t: Float(t)), y.shape[1])
    }

    /// Hairer, Nørsett & Wanner's starting step (torchdiffeq `_select_initial_step`, order 4).
    private static func initialStep(_ state: inout SamplerState, y0: Tensor, f0: Tensor) throws -> Double {
        let magnitude = y0.map(abs)
        let d0 = scaledNorm(y0, magnitude), d1 = scaledNorm(f0, magnitude)
        let h0 = d0 < 1e-5 || d1 < 1e-5 ? 1e-6 : 0.01 * d0 / d1
        let f1 = try velocity(&state, y0.adding(f0, scaledBy: Float(h0)), h0)
        let d2 = scaledNorm(f1.zipMap(f0) { $0 - $1 }, magnitude) / h0
        let h1 = d1 <= 1e-15 && d2 <= 1e-15 ? max(1e-6, h0 * 1e-3) : pow(0.01 / max(d1, d2), 1.0 / 5)
        return min(100 * h0, h1)
    }

    public mutating func step(_ state: inout SamplerState) throws -> TrajectoryStep? {
        guard !finished else { return nil }
        let y0 = state.x
        if derivative == nil {
            derivative = try Self.velocity(&state, y0, 0)
            dt = try Self.initialStep(&state, y0: y0, f0: derivative!)
        }
        let f0 = derivative!
        while true {
            guard state.model.evaluations + 6 <= maximumEvaluations else {
                throw FiTError.invalidInput(String(format: "dopri5 stopped at t = %.4f after %d model evaluations (its limit is %d): "
                                                   + "the ODE is too stiff, most likely from a very large guidance scale; lower --cfg or use euler or heun",
                                                   t, state.model.evaluations, maximumEvaluations))
            }
            let h = dt!, t1 = t + h
            guard t1 > t else { throw FiTError.invalidInput("dopri5 step size underflowed at t = \(t)") }
            let hf = Float(h)
            var ks = [f0]
            var y1 = y0
            for (stage, weights) in Self.beta.enumerated() {
                let ti = Self.alpha[stage] == 1 ? Float(t1) : Float(t) + Float(Self.alpha[stage]) * hf
                y1 = Self.advance(y0, ks, weights: weights, h: hf)
                ks.append(try Self.velocity(&state, y1, Double(ti)))
            }
            let error = Self.advance(Tensor(zeros: y0.shape), ks, weights: Self.errorWeights, h: hf)
            let ratio = Self.scaledNorm(error, y0.zipMap(y1) { max(abs($0), abs($1)) })
            let factor = ratio == 0 ? 10 : min(10, max(0.9 / pow(ratio, 1.0 / 5), ratio < 1 ? 1 : 0.2))
            dt = h * factor
            guard ratio <= 1 else { rejected += 1; continue }

            let f1 = ks[6]
            var next = y1
            if t1 >= 1 {
                next = Self.denseOutput(y0: y0, y1: y1, ks: ks, h: hf, at: Float((1 - t) / (t1 - t)))
                finished = true
            }
            let step = TrajectoryStep(index: accepted, count: nil, t: t, progress: min(t1, 1),
                                      xt: state.visible(y0),
                                      x0: state.visible(SamplerState.flowCleanEstimate(y0, t: Float(t), velocity: f0)),
                                      next: state.visible(next))
            accepted += 1
            t = t1
            derivative = f1
            state.x = next
            return step
        }
    }

    /// torchdiffeq's 4th-order interpolant through y0, the midpoint, y1 and both derivatives,
    /// evaluated at the fraction `x` of the step.
    static func denseOutput(y0: Tensor, y1: Tensor, ks: [Tensor], h: Float, at x: Float) -> Tensor {
        let mid = advance(y0, ks, weights: midpointWeights, h: h)
        let f0 = ks[0], f1 = ks[6]
        let out = Tensor(zeros: y0.shape)
        for i in 0..<out.count {
            let (a0, a1, m, d0, d1) = (y0.data[i], y1.data[i], mid.data[i], f0.data[i], f1.data[i])
            let a = 2 * h * (d1 - d0) - 8 * (a1 + a0) + 16 * m
            let b = h * (5 * d0 - 3 * d1) + 18 * a0 + 14 * a1 - 32 * m
            let c = h * (d1 - 4 * d0) - 11 * a0 - 5 * a1 + 16 * m
            let d = h * d0
            var total = a0 + x * d
            var power = x
            for coefficient in [c, b, a] { power *= x; total += power * coefficient }
            out.data[i] = total
        }
        return out
    }
}
