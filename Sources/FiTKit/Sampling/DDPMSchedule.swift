import Foundation

/// FiTv1's diffusion process (DiT / improved-DDPM, docs/model.md §4.1): a linear β schedule over
/// 1000 steps, respaced to the requested step count, with the posterior coefficients the
/// learned-range sampler needs. Everything is computed in double precision and used as float32,
/// as the official code does.
public struct DDPMSchedule: Sendable {
    /// Length of the training schedule.
    public static let trainingSteps = 1000

    /// The kept original timesteps, ascending (250 steps: 0, 4, 8, …, 995, 999).
    public let timesteps: [Int]
    /// Respaced β_i.
    public let betas: [Double]
    /// ᾱ_i and ᾱ_{i−1} (with ᾱ_{−1} = 1) on the respaced schedule.
    public let alphasCumprod: [Double]
    public let alphasCumprodPrevious: [Double]

    /// The official `space_timesteps(1000, "N")` respacing of the linear schedule.
    public init(steps: Int) throws {
        guard steps >= 1, steps <= Self.trainingSteps else {
            throw FiTError.invalidInput("DDPM needs 1…\(Self.trainingSteps) steps, got \(steps)")
        }
        let T = Self.trainingSteps
        let base = (0..<T).map { 1e-4 + (0.02 - 1e-4) * Double($0) / Double(T - 1) }
        var cumulative = [Double](), running = 1.0
        for b in base { running *= 1 - b; cumulative.append(running) }
        let stride = steps <= 1 ? 1 : Double(T - 1) / Double(steps - 1)
        var kept = [Int](), position = 0.0
        for _ in 0..<steps { kept.append(Int(position.rounded(.toNearestOrEven))); position += stride }
        timesteps = kept
        var betas = [Double](), previous = 1.0
        for t in kept { betas.append(1 - cumulative[t] / previous); previous = cumulative[t] }
        self.betas = betas
        var product = 1.0
        alphasCumprod = betas.map { product *= 1 - $0; return product }
        alphasCumprodPrevious = [1] + alphasCumprod.dropLast()
    }

    /// Number of respaced steps.
    public var count: Int { timesteps.count }

    /// Posterior variance β_i(1 − ᾱ_{i−1})/(1 − ᾱ_i).
    func posteriorVariance(_ i: Int) -> Double {
        betas[i] * (1 - alphasCumprodPrevious[i]) / (1 - alphasCumprod[i])
    }

    /// log of the posterior variance with the first entry replaced by the second (it is 0 at i = 0).
    func posteriorLogVarianceClipped(_ i: Int) -> Double {
        log(count > 1 && i == 0 ? posteriorVariance(1) : posteriorVariance(i))
    }

    /// Coefficients of x̂0 and x_t in the posterior mean.
    func posteriorMeanCoefficients(_ i: Int) -> (Double, Double) {
        let a = alphasCumprod[i], ap = alphasCumprodPrevious[i]
        return (betas[i] * ap.squareRoot() / (1 - a), (1 - ap) * (1 - betas[i]).squareRoot() / (1 - a))
    }

    /// √(1/ᾱ_i) and √(1/ᾱ_i − 1): x̂0 = c1·x_t − c2·ε.
    func predictionCoefficients(_ i: Int) -> (Double, Double) {
        ((1 / alphasCumprod[i]).squareRoot(), (1 / alphasCumprod[i] - 1).squareRoot())
    }
}
