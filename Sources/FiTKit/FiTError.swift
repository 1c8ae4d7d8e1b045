/// Everything that can go wrong in FiTKit, each case carrying the facts a user needs to fix it.
public enum FiTError: Error, Equatable, CustomStringConvertible {
    // Files
    case fileNotFound(path: String)
    case unreadableFile(path: String, reason: String)
    case pickleCheckpoint(path: String)
    case malformedSafetensors(path: String, reason: String)
    case unsupportedDType(path: String, tensor: String, dtype: String)
    case writeFailed(path: String, reason: String)
    // Checkpoint ↔ model
    case missingConfiguration(path: String)
    case invalidConfiguration(String)
    case unsupportedConfiguration(key: String, value: String, reason: String)
    case missingTensors(names: [String])
    case unexpectedTensors(names: [String])
    case shapeMismatch(tensor: String, expected: [Int], found: [Int])
    // Inputs
    case invalidInput(String)
    case gridNotDivisible(height: Int, width: Int, patchSize: Int)
    case gridTooLarge(rows: Int, columns: Int, limit: Int)
    /// `acceptsNull`: whether id `numClasses` (the unconditional class) would be accepted here.
    case classOutOfRange(label: Int, numClasses: Int, acceptsNull: Bool = false)
    case missingVAE(model: String)
    // Numbers
    case nonFiniteValues(output: String, step: Int?, steps: Int?)
    // Precision and oneDNN
    case unsupportedPrecision(String)
    case oneDNN(String)

    public var description: String {
        switch self {
        case .fileNotFound(let path):
            return "\(path): no such file. Check the path."
        case .unreadableFile(let path, let reason):
            return "\(path): cannot read the file (\(reason))."
        case .pickleCheckpoint(let path):
            return "\(path) is a PyTorch pickle (zip), not safetensors (the official loader's \"legacy\" .safetensors files are too). "
                + "Convert it once: python/convert_checkpoint.py \(path) model.safetensors (add --vae for a VAE)."
        case .malformedSafetensors(let path, let reason):
            return "\(path): not a valid safetensors file: \(reason). The file is truncated or corrupt; download or export it again."
        case .unsupportedDType(let path, let tensor, let dtype):
            return "\(path): tensor '\(tensor)' has dtype \(dtype); fit reads F32, F16 and BF16 (and I64/I32 for labels)."
        case .writeFailed(let path, let reason):
            return "cannot write \(path): \(reason)."
        case .missingConfiguration(let path):
            return "\(path): no model configuration found (no 'fit_config' metadata, no \(path).json beside it, "
                + "and its tensors match no official preset). Pass --config FILE with the network_config params."
        case .invalidConfiguration(let reason):
            return "invalid model configuration: \(reason)."
        case .unsupportedConfiguration(let key, let value, let reason):
            return "configuration '\(key): \(value)' is not supported: \(reason)."
        case .missingTensors(let names):
            return "checkpoint is missing \(names.count) tensor(s) the configuration needs: \(FiTError.list(names)). "
                + "The checkpoint and the configuration do not belong together."
        case .unexpectedTensors(let names):
            return "checkpoint has \(names.count) tensor(s) the configuration does not use: \(FiTError.list(names)). "
                + "The checkpoint and the configuration do not belong together."
        case .shapeMismatch(let tensor, let expected, let found):
            return "tensor '\(tensor)' has shape \(found), but the configuration needs \(expected)."
        case .invalidInput(let reason):
            return reason
        case .gridNotDivisible(let height, let width, let patchSize):
            return "input grid \(height)×\(width) is not a multiple of the patch size \(patchSize) on both sides."
        case .gridTooLarge(let rows, let columns, let limit):
            return "token grid \(rows)×\(columns) exceeds the RoPE cache of \(limit) tokens per side."
        case .missingVAE(let model):
            return "\(model) makes 4-channel latents and needs the SD-VAE decoder to turn them into pixels: pass --vae FILE, "
                + "set FIT_VAE=FILE, or put vae.safetensors beside the model. The VAE is stabilityai/sd-vae-ft-ema "
                + "(diffusion_pytorch_model.safetensors); see docs/official-checkpoints.md."
        case .nonFiniteValues(let output, let step, let steps):
            let at = step.map { " at step \($0 + 1)\(steps.map { " of \($0)" } ?? "")" } ?? ""
            return "NaN or infinite values appeared\(at) in \(output); the result would be garbage, so nothing was written. "
                + "The weights may hold NaN/Inf (check the file with fit inspect) or the guidance scale is too large (lower --cfg)."
        case .unsupportedPrecision(let reason):
            return reason
        case .oneDNN(let reason):
            return "oneDNN: \(reason). Run with --precision fp32 to use OpenBLAS instead."
        case .classOutOfRange(let label, let numClasses, let acceptsNull):
            return "class id \(label) is out of range: use 0…\(numClasses - 1)"
                + (acceptsNull ? ", or \(numClasses) for the unconditional (null) class." : ".")
        }
    }

    private static func list(_ names: [String]) -> String {
        names.count <= 4 ? names.joined(separator: ", ") : names.prefix(4).joined(separator: ", ") + ", …"
    }
}
