import Foundation

/// The FiT / FiTv2 diffusion transformer (docs/model.md §2), bound to checkpoint weights that
/// it uses in place.
///
/// `forward` takes the latent or pixel grid (B, C, H, W) of any size and aspect ratio up to
/// 256 tokens per side, and returns (B, C_out, H, W): ε and the variance value for v1
/// (`learn_sigma`), the velocity for v2.
///
/// `@unchecked Sendable`: the weights are immutable after `init` and only read by `forward`; each call works in its own tensors, and the bf16 primitive caches are locked.
public final class FiT: @unchecked Sendable {
    /// The network configuration.
    public let configuration: FiTConfiguration
    /// The number format of the blocks' products (the embeddings and the final layer stay float32).
    public let precision: Precision
    let patchEmbedding: Linear
    let timestepEmbedder: TimestepEmbedder
    let labelTable: Tensor
    let globalModulation: Linear?
    let blocks: [FiTBlock]
    let finalLayer: FinalLayer

    /// Binds `weights` strictly: every tensor the configuration needs must be present with its
    /// exact shape, and the checkpoint may hold nothing else. In bf16 the blocks' Linear layers
    /// are packed into bfloat16 here, once.
    public init(configuration: FiTConfiguration, weights: WeightSource, precision: Precision = .fp32) throws {
        let available = weights.tensorShapesByName
        try Self.verifyBinding(configuration: configuration, shapes: available)

        func linear(_ prefix: String) throws -> Linear {
            Linear(weight: try weights.tensor("\(prefix).weight"),
                   bias: available["\(prefix).bias"] == nil ? nil : try weights.tensor("\(prefix).bias"))
        }
        func blockLinear(_ prefix: String) throws -> Linear { try linear(prefix).converted(to: precision) }
        self.configuration = configuration
        self.precision = precision
        patchEmbedding = try linear("x_embedder.proj")
        timestepEmbedder = TimestepEmbedder(first: try linear("t_embedder.mlp.0"), second: try linear("t_embedder.mlp.2"))
        labelTable = try weights.tensor("y_embedder.embedding_table.weight")
        globalModulation = configuration.usesLoRAAdaLN ? try linear("global_adaLN_modulation.1") : nil
        blocks = try (0..<configuration.depth).map { i in
            let p = "blocks.\(i)"
            let modulation: AdaLNModulation = configuration.usesLoRAAdaLN
                ? .lowRank(down: try blockLinear("\(p).adaLN_modulation.1"), up: try blockLinear("\(p).adaLN_modulation.2"))
                : .full(try blockLinear("\(p).adaLN_modulation.1"))
            let feedForward: FeedForward = configuration.useSwiglu
                ? .swiGLU(gate: try blockLinear("\(p).mlp.fc1_g"), value: try blockLinear("\(p).mlp.fc1_x"), down: try blockLinear("\(p).mlp.fc2"))
                : .gelu(up: try blockLinear("\(p).mlp.fc1"), down: try blockLinear("\(p).mlp.fc2"))
            let normWeights = configuration.usesQKNorm && configuration.qkNormWeight
            return FiTBlock(
                attention: Attention(qkv: try blockLinear("\(p).attn.qkv"), proj: try blockLinear("\(p).attn.proj"),
                                     heads: configuration.numHeads, normalizesQK: configuration.usesQKNorm,
                                     qNormWeight: normWeights ? try weights.tensor("\(p).attn.q_norm.weight") : nil,
                                     kNormWeight: normWeights ? try weights.tensor("\(p).attn.k_norm.weight") : nil),
                feedForward: feedForward,
                modulation: modulation)
        }
        finalLayer = FinalLayer(modulation: try linear("final_layer.adaLN_modulation.1"), linear: try linear("final_layer.linear"))
    }

    /// Checks that a checkpoint with these tensor shapes binds strictly to `configuration`:
    /// valid values, no tensor missing, none unexpected, every shape exact.
    public static func verifyBinding(configuration: FiTConfiguration, shapes available: [String: [Int]]) throws {
        try configuration.validate()
        let expected = configuration.tensorShapes()
        let missing = expected.map(\.name).filter { available[$0] == nil }
        if !missing.isEmpty { throw FiTError.missingTensors(names: missing) }
        for (name, shape) in expected where available[name]! != shape {
            throw FiTError.shapeMismatch(tensor: name, expected: shape, found: available[name]!)
        }
        let expectedNames = Set(expected.map(\.name))
        let unexpected = available.keys.filter { !expectedNames.contains($0) }.sorted()
        if !unexpected.isEmpty { throw FiTError.unexpectedTensors(names: unexpected) }
    }

    /// The timestep value the embedding sees: v2 (`use_sit`) applies `time_shifting` and clamps
    /// to 1 as the official forward does; v1 embeds the raw DDPM timestep (docs/model.md §4.5).
    public func embeddedTime(_ t: Float) -> Double {
        guard configuration.useSit else { return Double(t) }
        let s = configuration.timeShifting, t = Double(t)
        return min(s * t / (1 + (s - 1) * t), 1)
    }

    /// Runs the network.
    /// - Parameters:
    ///   - x: (B, in_channels, H, W); H and W multiples of the patch size.
    ///   - t: one timestep per sample (v1: DDPM step 0…999; v2: flow time in [0, 1]).
    ///   - y: one class id per sample; `num_classes` is the null (unconditional) class.
    ///   - mask: optional (B, N) with 1 for real tokens and 0 for padding (N = tokens, row-major).
    ///   - rope: the RoPE extrapolation; `nil` uses the configuration's own.
    /// - Returns: (B, C_out, H, W).
    public func forward(_ x: Tensor, t: [Float], y: [Int], mask: Tensor? = nil, rope: RoPEScaling? = nil) throws -> Tensor {
        let config = configuration
        guard x.shape.count == 4, x.shape[1] == config.inChannels else {
            throw FiTError.invalidInput("input x has shape \(x.shape); expected (B, \(config.inChannels), H, W)")
        }
        let (batch, height, width, p) = (x.shape[0], x.shape[2], x.shape[3], config.patchSize)
        guard batch > 0, height > 0, width > 0 else { throw FiTError.invalidInput("input x has an empty dimension: \(x.shape)") }
        guard height % p == 0, width % p == 0 else { throw FiTError.gridNotDivisible(height: height, width: width, patchSize: p) }
        let (rows, columns) = (height / p, width / p)
        guard rows <= RoPE2D.maximumSide, columns <= RoPE2D.maximumSide else {
            throw FiTError.gridTooLarge(rows: rows, columns: columns, limit: RoPE2D.maximumSide)
        }
        guard t.count == batch else { throw FiTError.invalidInput("t has \(t.count) values for a batch of \(batch)") }
        guard y.count == batch else { throw FiTError.invalidInput("y has \(y.count) labels for a batch of \(batch)") }
        for label in y where label < 0 || label >= config.labelTableRows {
            throw FiTError.classOutOfRange(label: label, numClasses: config.numClasses, acceptsNull: config.labelTableRows > config.numClasses)
        }
        let tokens = rows * columns
        var maskValues: [Float]?
        if let mask {
            guard mask.count == batch * tokens else {
                throw FiTError.invalidInput("mask has shape \(mask.shape); expected (\(batch), \(tokens))")
            }
            let values = mask.toArray().map { $0 != 0 ? Float(1) : 0 }
            maskValues = values.allSatisfy { $0 == 1 } ? nil : values
        }

        let d = config.hiddenSize
        let patches = Self.patchify(x, patchSize: p)
        let hidden = Tensor(zeros: [batch * tokens, d])
        patchEmbedding.apply(patches.data, rows: batch * tokens, into: hidden.data)

        let conditioning = timestepEmbedder(t.map(embeddedTime))
        for (b, label) in y.enumerated() {
            Kernels.add(labelTable.data + label * d, to: conditioning.data + b * d, count: d)
        }
        Kernels.silu(conditioning.data, count: conditioning.count)
        let global = globalModulation.map { g -> Tensor in
            let out = Tensor(zeros: [batch, 6 * d])
            g.apply(conditioning.data, rows: batch, into: out.data)
            return out
        }
        let scaling = rope ?? RoPEScaling(configuration: config)
        let frequencies = RoPE2D.frequencies(headDim: config.headDim, theta: config.ropeTheta, scaling: scaling,
                                             oriMaxPeLen: scaling.oriMaxPeLen ?? config.defaultOriMaxPeLen,
                                             rows: rows, columns: columns)
        let (cos, sin) = RoPE2D.tables(frequencies, headDim: config.headDim, rows: rows, columns: columns)
        let pass = ForwardPass(batch: batch, tokens: tokens, configuration: config, siluConditioning: conditioning,
                               globalModulation: global, cos: cos, sin: sin, mask: maskValues)
        for block in blocks { block(hidden, pass) }
        let out = finalLayer(hidden, pass)
        return Self.unpatchify(out, batch: batch, channels: config.outChannels, rows: rows, columns: columns, patchSize: p)
    }
}
