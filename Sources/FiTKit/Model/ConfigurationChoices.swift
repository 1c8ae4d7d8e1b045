/// `adaln_type`: how a block computes its adaLN modulation from the conditioning.
///
/// Decoding accepts any string so that a configuration can be read and reported whole;
/// ``FiTConfiguration/validate()`` refuses ``unsupported(_:)``.
public enum AdaLNType: RawRepresentable, Equatable, Sendable, Codable {
    /// One Linear to 6·D per block (FiTv1).
    case normal
    /// A low-rank (LoRA) Linear pair per block plus one global modulation shared by all blocks (FiTv2).
    case lora
    /// Any other value (the official code also knows `swiglu`, used by no released checkpoint).
    case unsupported(String)

    public init(rawValue: String) {
        switch rawValue {
        case "normal": self = .normal
        case "lora": self = .lora
        default: self = .unsupported(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .normal: return "normal"
        case .lora: return "lora"
        case .unsupported(let value): return value
        }
    }
}

/// `norm_type`: the normalisation before attention and MLP.
///
/// Decoding accepts any string; ``FiTConfiguration/validate()`` refuses ``unsupported(_:)``.
public enum NormType: RawRepresentable, Equatable, Sendable, Codable {
    /// LayerNorm without affine weights (every released FiT).
    case layernorm
    /// Any other value.
    case unsupported(String)

    public init(rawValue: String) { self = rawValue == "layernorm" ? .layernorm : .unsupported(rawValue) }

    public var rawValue: String {
        switch self {
        case .layernorm: return "layernorm"
        case .unsupported(let value): return value
        }
    }
}
