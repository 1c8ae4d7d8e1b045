/// The number format of the transformer's matrix products (docs/cpu.md §4).
///
/// `fp32` is the parity reference: every product runs in float32 on OpenBLAS. `bf16` runs the
/// Linear layers and the attention products as oneDNN matmuls on bfloat16 operands with float32
/// accumulation; the residual stream, LayerNorm, softmax, RoPE and the adaLN modulation stay in
/// float32.
public enum Precision: String, CaseIterable, Sendable, Codable {
    case fp32
    case bf16

    /// What a user may ask for: a precision, or `auto` (bf16 where the CPU has native bf16).
    public enum Request: String, CaseIterable, Sendable {
        case auto, fp32, bf16
    }

    /// The request for exactly this precision (how a recorded precision is asked for again).
    public var request: Request {
        switch self {
        case .fp32: return .fp32
        case .bf16: return .bf16
        }
    }

    /// The precision `request` means on this CPU. `auto` picks bf16 where oneDNN dispatches
    /// to a native bf16 ISA (AVX-512 BF16 or AMX) and fp32 elsewhere; an explicit bf16 on a CPU
    /// without it is an error that says why. `nativeBFloat16` is what this CPU has (a parameter
    /// so the rule can be tested for other CPUs).
    public static func resolve(_ request: Request, nativeBFloat16: Bool = OneDNN.hasNativeBFloat16) throws -> Precision {
        switch request {
        case .fp32: return .fp32
        case .auto: return nativeBFloat16 ? .bf16 : .fp32
        case .bf16:
            guard nativeBFloat16 else {
                throw FiTError.unsupportedPrecision(
                    "bf16 needs a CPU with native bfloat16 (AVX-512 BF16 or AMX); oneDNN reports \(OneDNN.isaName) here. Use --precision fp32 (or auto).")
            }
            return .bf16
        }
    }
}
