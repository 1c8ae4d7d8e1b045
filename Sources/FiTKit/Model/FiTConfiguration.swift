/// A FiT network configuration, with the official YAML `network_config.params` names.
///
/// Decoding accepts every parameter of the official `FiT.__init__`; JSON `null` or a missing
/// key means the official default. Keys this type does not know are kept in ``unknownKeys``
/// (reported by `fit inspect`) instead of failing. ``validate()`` rejects values the Swift
/// model cannot honour.
public struct FiTConfiguration: Codable, Sendable, Equatable {
    public var contextSize = 256
    public var patchSize = 2
    public var inChannels = 4
    public var hiddenSize = 1152
    public var depth = 28
    public var numHeads = 16
    public var mlpRatio = 4.0
    public var classDropoutProb = 0.1
    public var numClasses = 1000
    public var learnSigma = true
    public var useSit = false
    public var useCheckpoint = false
    public var useSwiglu = false
    public var useSwigluLarge = false
    public var relPosEmbed: String? = "rope"
    public var absPosEmbed: String? = nil
    public var normType = NormType.layernorm
    public var qNorm: String? = nil
    public var kNorm: String? = nil
    public var qkNormWeight = false
    public var qkvBias = true
    public var ffnBias = true
    public var adalnBias = true
    public var adalnType = AdaLNType.normal
    public var adalnLoraDim: Int? = nil
    public var ropeTheta = 10000.0
    public var customFreqs = "normal"
    public var maxPeLenH: Int? = nil
    public var maxPeLenW: Int? = nil
    public var decouple = false
    public var oriMaxPeLen: Int? = nil
    public var onlineRope = false
    public var addRelPeToV = false
    public var timeShifting = 1.0
    /// Keys found in the source that are not FiT parameters (not encoded).
    public var unknownKeys: [String] = []

    /// The official defaults.
    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case contextSize = "context_size", patchSize = "patch_size", inChannels = "in_channels"
        case hiddenSize = "hidden_size", depth, numHeads = "num_heads", mlpRatio = "mlp_ratio"
        case classDropoutProb = "class_dropout_prob", numClasses = "num_classes", learnSigma = "learn_sigma"
        case useSit = "use_sit", useCheckpoint = "use_checkpoint", useSwiglu = "use_swiglu"
        case useSwigluLarge = "use_swiglu_large", relPosEmbed = "rel_pos_embed", absPosEmbed = "abs_pos_embed"
        case normType = "norm_type", qNorm = "q_norm", kNorm = "k_norm", qkNormWeight = "qk_norm_weight"
        case qkvBias = "qkv_bias", ffnBias = "ffn_bias", adalnBias = "adaln_bias", adalnType = "adaln_type"
        case adalnLoraDim = "adaln_lora_dim", ropeTheta = "rope_theta", customFreqs = "custom_freqs"
        case maxPeLenH = "max_pe_len_h", maxPeLenW = "max_pe_len_w", decouple
        case oriMaxPeLen = "ori_max_pe_len", onlineRope = "online_rope", addRelPeToV = "add_rel_pe_to_v"
        case timeShifting = "time_shifting"
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func take<T: Decodable>(_ key: CodingKeys, _ value: inout T) throws {
            if let v = try c.decodeIfPresent(T.self, forKey: key) { value = v }
        }
        func takeOptional<T: Decodable>(_ key: CodingKeys, _ value: inout T?) throws {
            if c.contains(key) { value = try c.decodeNil(forKey: key) ? value : c.decode(T.self, forKey: key) }
        }
        try take(.contextSize, &contextSize); try take(.patchSize, &patchSize); try take(.inChannels, &inChannels)
        try take(.hiddenSize, &hiddenSize); try take(.depth, &depth); try take(.numHeads, &numHeads)
        try take(.mlpRatio, &mlpRatio); try take(.classDropoutProb, &classDropoutProb)
        try take(.numClasses, &numClasses); try take(.learnSigma, &learnSigma); try take(.useSit, &useSit)
        try take(.useCheckpoint, &useCheckpoint); try take(.useSwiglu, &useSwiglu)
        try take(.useSwigluLarge, &useSwigluLarge); try takeOptional(.relPosEmbed, &relPosEmbed)
        if c.contains(.absPosEmbed), try !c.decodeNil(forKey: .absPosEmbed) {
            absPosEmbed = try c.decode(String.self, forKey: .absPosEmbed)
        }
        try take(.normType, &normType); try takeOptional(.qNorm, &qNorm); try takeOptional(.kNorm, &kNorm)
        try take(.qkNormWeight, &qkNormWeight); try take(.qkvBias, &qkvBias); try take(.ffnBias, &ffnBias)
        try take(.adalnBias, &adalnBias); try take(.adalnType, &adalnType)
        try takeOptional(.adalnLoraDim, &adalnLoraDim); try take(.ropeTheta, &ropeTheta)
        try take(.customFreqs, &customFreqs); try takeOptional(.maxPeLenH, &maxPeLenH)
        try takeOptional(.maxPeLenW, &maxPeLenW); try take(.decouple, &decouple)
        try takeOptional(.oriMaxPeLen, &oriMaxPeLen); try take(.onlineRope, &onlineRope)
        try take(.addRelPeToV, &addRelPeToV); try take(.timeShifting, &timeShifting)
        let known = Set(CodingKeys.allCases.map(\.rawValue))
        let all = try decoder.container(keyedBy: AnyKey.self)
        unknownKeys = all.allKeys.map(\.stringValue).filter { !known.contains($0) }.sorted()
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(contextSize, forKey: .contextSize); try c.encode(patchSize, forKey: .patchSize)
        try c.encode(inChannels, forKey: .inChannels); try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(depth, forKey: .depth); try c.encode(numHeads, forKey: .numHeads)
        try c.encode(mlpRatio, forKey: .mlpRatio); try c.encode(classDropoutProb, forKey: .classDropoutProb)
        try c.encode(numClasses, forKey: .numClasses); try c.encode(learnSigma, forKey: .learnSigma)
        try c.encode(useSit, forKey: .useSit); try c.encode(useCheckpoint, forKey: .useCheckpoint)
        try c.encode(useSwiglu, forKey: .useSwiglu); try c.encode(useSwigluLarge, forKey: .useSwigluLarge)
        try c.encode(relPosEmbed, forKey: .relPosEmbed); try c.encode(absPosEmbed, forKey: .absPosEmbed)
        try c.encode(normType, forKey: .normType); try c.encode(qNorm, forKey: .qNorm)
        try c.encode(kNorm, forKey: .kNorm); try c.encode(qkNormWeight, forKey: .qkNormWeight)
        try c.encode(qkvBias, forKey: .qkvBias); try c.encode(ffnBias, forKey: .ffnBias)
        try c.encode(adalnBias, forKey: .adalnBias); try c.encode(adalnType, forKey: .adalnType)
        try c.encode(adalnLoraDim, forKey: .adalnLoraDim); try c.encode(ropeTheta, forKey: .ropeTheta)
        try c.encode(customFreqs, forKey: .customFreqs); try c.encode(maxPeLenH, forKey: .maxPeLenH)
        try c.encode(maxPeLenW, forKey: .maxPeLenW); try c.encode(decouple, forKey: .decouple)
        try c.encode(oriMaxPeLen, forKey: .oriMaxPeLen); try c.encode(onlineRope, forKey: .onlineRope)
        try c.encode(addRelPeToV, forKey: .addRelPeToV); try c.encode(timeShifting, forKey: .timeShifting)
    }
}

extension FiTConfiguration {
    /// Width of one attention head.
    public var headDim: Int { hiddenSize / numHeads }
    /// Values per token going in: `in_channels · patch²` (the `(c p1 p2)` patch).
    public var patchDim: Int { inChannels * patchSize * patchSize }
    /// Channels per pixel coming out: twice `in_channels` when the model also predicts a variance.
    public var outChannels: Int { learnSigma ? 2 * inChannels : inChannels }
    /// Hidden width of the feed-forward layer (SwiGLU: two thirds of `mlp_ratio · D` unless large).
    public var ffnHidden: Int {
        let h = Int(Double(hiddenSize) * mlpRatio)
        return !useSwiglu || useSwigluLarge ? h : (h * 2) / 3
    }
    /// Rows of the label table: the classes plus the null class used for guidance.
    public var labelTableRows: Int { numClasses + (classDropoutProb > 0 ? 1 : 0) }
    /// Whether blocks use the LoRA adaLN plus the shared global adaLN (FiTv2).
    public var usesLoRAAdaLN: Bool { adalnType == .lora }
    /// Whether q and k are layer-normalised per head (FiTv2).
    public var usesQKNorm: Bool { qNorm != nil }
    /// Training-resolution side in tokens used for RoPE extrapolation (default √context_size).
    public var defaultOriMaxPeLen: Int { oriMaxPeLen ?? Int(Double(contextSize).squareRoot()) }

    /// The accepted range of each integer size (far above every released model, and small
    /// enough that no shape or parameter count computed from them can overflow).
    public static let limits: [(key: String, range: ClosedRange<Int>)] = [
        ("context_size", 1...(1 << 20)), ("patch_size", 1...64), ("in_channels", 1...1024),
        ("hidden_size", 1...32768), ("depth", 1...1024), ("num_heads", 1...1024), ("num_classes", 1...1_000_000),
    ]
    /// The accepted range of `mlp_ratio`.
    public static let mlpRatioRange = 0.0...64.0

    /// Throws ``FiTError`` for values the Swift model cannot honour, naming the key.
    public func validate() throws {
        let values = ["context_size": contextSize, "patch_size": patchSize, "in_channels": inChannels, "hidden_size": hiddenSize,
                      "depth": depth, "num_heads": numHeads, "num_classes": numClasses]
        for (key, range) in Self.limits where !range.contains(values[key]!) {
            throw FiTError.invalidConfiguration("\(key) must be in \(range.lowerBound)…\(range.upperBound), got \(values[key]!)")
        }
        guard mlpRatio.isFinite, mlpRatio > Self.mlpRatioRange.lowerBound, mlpRatio <= Self.mlpRatioRange.upperBound, ffnHidden >= 1 else {
            throw FiTError.invalidConfiguration("mlp_ratio must be in (0, 64] and give a feed-forward width of at least 1, got \(mlpRatio)")
        }
        guard classDropoutProb.isFinite, classDropoutProb >= 0, classDropoutProb < 1 else {
            throw FiTError.invalidConfiguration("class_dropout_prob must be in [0, 1), got \(classDropoutProb)")
        }
        guard ropeTheta.isFinite, ropeTheta > 1 else {
            throw FiTError.invalidConfiguration("rope_theta must be a finite number above 1 (the official models use 10000), got \(ropeTheta)")
        }
        for (key, value) in [("max_pe_len_h", maxPeLenH), ("max_pe_len_w", maxPeLenW), ("ori_max_pe_len", oriMaxPeLen)] {
            if let value, !(1...RoPE2D.maximumSide).contains(value) {
                throw FiTError.invalidConfiguration("\(key) must be in 1…\(RoPE2D.maximumSide) (or null), got \(value)")
            }
        }
        guard hiddenSize % numHeads == 0 else {
            throw FiTError.invalidConfiguration("hidden_size \(hiddenSize) is not divisible by num_heads \(numHeads)")
        }
        guard headDim % 4 == 0 else {
            throw FiTError.invalidConfiguration("head size \(headDim) must be a multiple of 4 for 2-D RoPE")
        }
        func unsupported(_ key: String, _ value: String, _ why: String) -> FiTError {
            .unsupportedConfiguration(key: key, value: value, reason: why)
        }
        guard relPosEmbed == "rope" else { throw unsupported("rel_pos_embed", relPosEmbed ?? "null", "FiT positions come from 2-D RoPE ('rope')") }
        guard absPosEmbed == nil else { throw unsupported("abs_pos_embed", absPosEmbed!, "no released FiT uses an absolute position embedding") }
        guard !addRelPeToV else { throw unsupported("add_rel_pe_to_v", "true", "RoPE is applied to q and k only") }
        if case .unsupported(let value) = normType { throw unsupported("norm_type", value, "only 'layernorm' is implemented") }
        for (key, value) in [("q_norm", qNorm), ("k_norm", kNorm)] where value != nil && value != "layernorm" {
            throw unsupported(key, value!, "only null or 'layernorm' is implemented")
        }
        guard (qNorm == nil) == (kNorm == nil) else { throw unsupported("k_norm", kNorm ?? "null", "q_norm and k_norm must both be set or both be null") }
        switch adalnType {
        case .normal: break
        case .lora:
            guard let r = adalnLoraDim, r > 0, r <= hiddenSize else {
                throw unsupported("adaln_lora_dim", "\(adalnLoraDim.map(String.init) ?? "null")", "adaln_type 'lora' needs a rank in 1…hidden_size")
            }
        case .unsupported(let value): throw unsupported("adaln_type", value, "use 'normal' (v1) or 'lora' (v2)")
        }
        guard RoPEInterpolation(customFreqs: customFreqs) != nil else {
            throw unsupported("custom_freqs", customFreqs, "use one of \(RoPEInterpolation.allCases.map(\.customFreqs).joined(separator: ", "))")
        }
        guard timeShifting > 0, timeShifting.isFinite else { throw FiTError.invalidConfiguration("time_shifting must be positive, got \(timeShifting)") }
    }
}
