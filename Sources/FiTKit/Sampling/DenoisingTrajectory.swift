/// One generation as a sequence of steps: `for step in trajectory { … }` runs the model step by
/// step; stopping the iteration stops the work.
///
/// Creating a trajectory validates the parameters against the model, so iterating cannot fail.
public struct DenoisingTrajectory: Sequence {
    public let model: FiT
    public let parameters: SamplingParameters

    /// Checks `parameters` against `model` (class ids, grid size, sampler, steps, guidance).
    public init(model: FiT, parameters: SamplingParameters) throws {
        try parameters.validate(for: model.configuration)
        self.model = model
        self.parameters = parameters
    }

    /// The initial noise x_T, (B, C, H, W), drawn from the seed as the official samplers draw it.
    public var initialNoise: Tensor { makeIterator().initialNoise }

    public func makeIterator() -> Iterator { Iterator(model: model, parameters: parameters) }

    /// Runs the sampler one step per `next()`.
    public struct Iterator: IteratorProtocol {
        private var sampler: any Sampler
        private var state: SamplerState
        /// x_T for the B requested images.
        public let initialNoise: Tensor

        init(model: FiT, parameters p: SamplingParameters) {
            let guided = GuidedModel(model: model, parameters: p)
            var noise: any NoiseSource = TorchNoiseSource(seed: p.seed)
            let xT = noise.image(rows: guided.batch, configuration: model.configuration, height: p.height, width: p.width)
            initialNoise = xT
            let x = guided.usesGuidance ? Tensor.concatenatingBatches([xT, xT]) : xT
            state = SamplerState(x: x, model: guided, noise: noise, height: p.height, width: p.width)
            sampler = p.sampler.makeSampler(steps: p.steps)
        }

        /// Model evaluations so far.
        public var evaluations: Int { state.model.evaluations }
        /// Seconds spent in the network's forward passes so far.
        public var forwardSeconds: Double { state.model.forwardSeconds }
        /// Steps the sampler plans (nil for dopri5).
        public var plannedSteps: Int? { sampler.plannedSteps }

        /// Why the trajectory stopped early, when ``next()`` returned `nil` before the end.
        public private(set) var failure: FiTError?

        /// The next step, `nil` at the end; throws when the numbers go non-finite (NaN/Inf weights,
        /// an absurd guidance scale) or dopri5 exceeds its evaluation budget.
        public mutating func nextStep() throws -> TrajectoryStep? {
            if let failure { throw failure }
            do {
                guard let step = try sampler.step(&state) else { return nil }
                for (tensor, name) in [(step.x0, "x0 (the model's estimate of the clean image)"), (step.next, "x_t (the sampler's state)")]
                where !tensor.isFinite {
                    throw FiTError.nonFiniteValues(output: name, step: step.index, steps: step.count)
                }
                return step
            } catch let error as FiTError {
                failure = error
                throw error
            } catch {
                failure = .invalidInput("\(error)")
                throw failure!
            }
        }

        /// The next step; `nil` at the end or after a failure (see ``failure``). Callers that
        /// must report failures use ``nextStep()``.
        public mutating func next() -> TrajectoryStep? { try? nextStep() }
    }
}

extension SamplerKind {
    /// A fresh sampler of this kind (parameters already validated).
    func makeSampler(steps: Int) -> any Sampler {
        switch self {
        case .ddpm, .ddim: return try! DDPMSampler(steps: steps, deterministic: self == .ddim)
        case .euler: return EulerSampler(steps: steps)
        case .heun: return HeunSampler(steps: steps)
        case .dopri5: return Dopri5Sampler()
        case .sde: return EulerMaruyamaSampler(steps: steps)
        }
    }
}

extension SamplingParameters {
    /// The most steps a trajectory may have (every step is kept for display and export).
    public static let maximumSteps = 10_000
    /// The largest classifier-free guidance scale accepted (the official models use 1.5–4).
    public static let maximumGuidanceScale = 1000.0

    /// Throws ``FiTError`` when these parameters cannot run on a model of `configuration`.
    public func validate(for configuration: FiTConfiguration) throws {
        guard !classes.isEmpty else { throw FiTError.invalidInput("no class given") }
        for c in classes where c < 0 || c >= configuration.labelTableRows {
            throw FiTError.classOutOfRange(label: c, numClasses: configuration.numClasses,
                                             acceptsNull: configuration.labelTableRows > configuration.numClasses)
        }
        let p = configuration.patchSize
        guard height > 0, width > 0, height % p == 0, width % p == 0 else {
            throw FiTError.gridNotDivisible(height: height, width: width, patchSize: p)
        }
        guard height / p <= RoPE2D.maximumSide, width / p <= RoPE2D.maximumSide else {
            throw FiTError.gridTooLarge(rows: height / p, columns: width / p, limit: RoPE2D.maximumSide)
        }
        guard sampler.isFlow == configuration.useSit else {
            let fitting = SamplerKind.available(for: configuration).map(\.rawValue).joined(separator: ", ")
            throw FiTError.invalidInput("sampler \(sampler.rawValue) does not fit this \(configuration.useSit ? "flow (FiTv2)" : "DDPM (FiTv1)") model; use \(fitting)")
        }
        if sampler == .ddpm && !configuration.learnSigma {
            throw FiTError.invalidInput("ddpm needs a model that learns its variance (learn_sigma); use ddim")
        }
        let minimumSteps = sampler == .sde ? 2 : 1
        guard steps >= minimumSteps || sampler == .dopri5 else {
            throw FiTError.invalidInput("steps must be at least \(minimumSteps) for \(sampler.rawValue), got \(steps)")
        }
        if sampler == .ddpm || sampler == .ddim, steps > DDPMSchedule.trainingSteps {
            throw FiTError.invalidInput("\(sampler.rawValue) takes at most \(DDPMSchedule.trainingSteps) steps, got \(steps)")
        }
        guard steps <= Self.maximumSteps else {
            throw FiTError.invalidInput("steps must be at most \(Self.maximumSteps), got \(steps)")
        }
        guard guidanceScale >= 0, guidanceScale <= Self.maximumGuidanceScale, guidanceScale.isFinite else {
            throw FiTError.invalidInput("guidance scale must be in 0…\(Int(Self.maximumGuidanceScale)), got \(guidanceScale)")
        }
        if guidanceScale > 1 && configuration.classDropoutProb == 0 {
            throw FiTError.invalidInput("this model has no unconditional class (class_dropout_prob 0), so it cannot use guidance; "
                                        + "use a guidance scale of 1 (--cfg 1)")
        }
        guard scalePower >= 0, scalePower.isFinite else { throw FiTError.invalidInput("scale power must be ≥ 0, got \(scalePower)") }
        if let g = guidedChannels, g < 0 { throw FiTError.invalidInput("guided channels must be ≥ 0, got \(g)") }
    }
}
