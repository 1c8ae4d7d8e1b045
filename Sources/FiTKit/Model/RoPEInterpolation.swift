/// RoPE extrapolation methods, named as the official samplers' `--interpolation` option.
public enum RoPEInterpolation: String, CaseIterable, Sendable {
    /// Plain RoPE (`custom_freqs: normal`).
    case no
    /// Position interpolation (PI).
    case linear
    /// NTK-aware base change; with `decouple` this is VisionNTK.
    case dynntk
    /// NTK-by-parts blend of interpolated, NTK and original frequencies.
    case partntk
    /// YaRN ramp plus logit scale; with `decouple` this is VisionYaRN.
    case yarn
    /// NTK plus an attention scale from the longer side.
    case ntkpro1
    /// NTK plus an attention scale from the token count (VisionNTK + attention scale with `decouple`).
    case ntkpro2

    /// The model's `custom_freqs` value for this method.
    public var customFreqs: String {
        switch self {
        case .no: return "normal"
        case .linear: return "linear"
        case .dynntk: return "ntk-aware"
        case .partntk: return "ntk-by-parts"
        case .yarn: return "yarn"
        case .ntkpro1: return "ntk-aware-pro1"
        case .ntkpro2: return "ntk-aware-pro2"
        }
    }

    /// The method whose `custom_freqs` value is `customFreqs`.
    public init?(customFreqs: String) {
        guard let m = Self.allCases.first(where: { $0.customFreqs == customFreqs }) else { return nil }
        self = m
    }
}

/// How RoPE is extrapolated for one generation: the method, whether each axis is scaled by
/// its own length (`decouple`, the "Vision" variants), and the training side length in tokens.
public struct RoPEScaling: Sendable, Equatable {
    public var interpolation: RoPEInterpolation
    public var decouple: Bool
    /// Training-resolution side in tokens; `nil` means the model's `ori_max_pe_len` or √context_size.
    public var oriMaxPeLen: Int?

    public init(interpolation: RoPEInterpolation = .no, decouple: Bool = false, oriMaxPeLen: Int? = nil) {
        self.interpolation = interpolation
        self.decouple = decouple
        self.oriMaxPeLen = oriMaxPeLen
    }

    /// The setting a configuration carries (`custom_freqs`, `decouple`, `ori_max_pe_len`).
    public init(configuration: FiTConfiguration) {
        self.init(interpolation: RoPEInterpolation(customFreqs: configuration.customFreqs) ?? .no,
                  decouple: configuration.decouple, oriMaxPeLen: configuration.oriMaxPeLen)
    }
}

extension RoPEScaling {
    /// The one name of each method used everywhere (explorer, CLI, README): the FiTv2 paper's
    /// `VisionNTK`, `VisionYaRN`, `VisionNTK+attn` for the decoupled methods, `none` for plain
    /// RoPE, else the official sampler name (with `+decouple` when decoupled).
    public var name: String {
        switch (interpolation, decouple) {
        case (.no, _): return "none"
        case (.dynntk, true): return "VisionNTK"
        case (.yarn, true): return "VisionYaRN"
        case (.ntkpro2, true): return "VisionNTK+attn"
        case (let other, true): return other.rawValue + "+decouple"
        case (let other, false): return other.rawValue
        }
    }

    /// Every name ``init(name:)`` accepts: the official sampler names and the one names above.
    public static let acceptedNames = RoPEInterpolation.allCases.map(\.rawValue) + ["none", "VisionNTK", "VisionYaRN", "VisionNTK+attn"]

    /// Parses a method by its official sampler name (`dynntk`) or its one name (`VisionNTK`),
    /// case-insensitively; `decouple` adds decoupling to an official name.
    public init?(name: String, decouple: Bool = false, oriMaxPeLen: Int? = nil) {
        let key = name.lowercased()
        let named: [String: (RoPEInterpolation, Bool)] = ["none": (.no, false), "visionntk": (.dynntk, true),
                                                          "visionyarn": (.yarn, true), "visionntk+attn": (.ntkpro2, true)]
        if let (method, decoupled) = named[key] {
            self.init(interpolation: method, decouple: decoupled || decouple, oriMaxPeLen: oriMaxPeLen)
        } else if let method = RoPEInterpolation(rawValue: key) {
            self.init(interpolation: method, decouple: decouple, oriMaxPeLen: oriMaxPeLen)
        } else {
            return nil
        }
    }
}
