/// Maps the decoder's diffusers tensor names to the names a file stores them under, accepting
/// the legacy mid-block attention names (`query`, `key`, `value`, `proj_attn`) and attention
/// weights stored as 1×1 convolutions; encoder tensors are ignored.
struct VAEWeightNames {
    private var storedName: [String: String] = [:]
    private var shapes: [String: [Int]] = [:]

    static let legacyAttention = ["to_q": "query", "to_k": "key", "to_v": "value", "to_out.0": "proj_attn"]

    /// Resolves every tensor `configuration` needs in `available`; throws for missing,
    /// mis-shaped or unexpected decoder tensors.
    init(configuration: VAEConfiguration, available: [String: [Int]]) throws {
        var missing: [String] = []
        for (name, shape) in configuration.tensorShapes() {
            // Attention projections are Linear (C, C) weights; the decoder runs them as 1×1 convolutions.
            let isAttention = name.contains(".attentions.0.to_")
            let runShape = isAttention && shape.count == 2 ? shape + [1, 1] : shape
            shapes[name] = runShape
            guard let stored = Self.candidates(for: name).first(where: { available[$0] != nil }) else {
                missing.append(name); continue
            }
            let found = available[stored]!
            let accepted = found == shape || (isAttention && found.reduce(1, *) == shape.reduce(1, *)
                                              && found.count == 4 && Array(found.prefix(2)) == shape)
            guard accepted else { throw FiTError.shapeMismatch(tensor: stored, expected: shape, found: found) }
            storedName[name] = stored
        }
        if !missing.isEmpty {
            if available.keys.contains(where: { $0.hasPrefix("decoder.mid.") || $0.hasPrefix("decoder.up.") }) {
                throw FiTError.invalidInput("this VAE is in the original (CompVis / LDM) layout (decoder.mid.block_1…, decoder.up.…), "
                                            + "not diffusers': use the diffusers-format file (diffusion_pytorch_model.safetensors "
                                            + "from stabilityai/sd-vae-ft-ema) or convert it with diffusers' conversion script")
            }
            throw FiTError.missingTensors(names: missing)
        }
        let used = Set(storedName.values)
        let unexpected = available.keys.filter {
            ($0.hasPrefix("decoder.") || $0.hasPrefix("post_quant_conv.")) && !used.contains($0)
        }.sorted()
        if !unexpected.isEmpty { throw FiTError.unexpectedTensors(names: unexpected) }
    }

    /// The diffusers name first, then its legacy spelling.
    private static func candidates(for name: String) -> [String] {
        for (modern, legacy) in legacyAttention where name.contains(".attentions.0.\(modern).") {
            return [name, name.replacingOccurrences(of: ".\(modern).", with: ".\(legacy).")]
        }
        return [name]
    }

    /// The name `name` is stored under.
    func stored(_ name: String) -> String { storedName[name]! }
    /// The shape the decoder runs `name` with.
    func shape(_ name: String) -> [Int] { shapes[name]! }
    /// Whether the configuration has a tensor called `name`.
    func contains(_ name: String) -> Bool { shapes[name] != nil }
}
