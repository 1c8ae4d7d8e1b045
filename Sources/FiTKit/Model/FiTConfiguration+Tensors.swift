extension FiTConfiguration {
    /// Every tensor a checkpoint for this configuration holds, with its shape, in model order —
    /// the official state-dict keys (docs/model.md §5.2). Strict binding, preset detection and
    /// parameter counts all derive from this one list.
    public func tensorShapes() -> [(name: String, shape: [Int])] {
        let d = hiddenSize
        var list: [(String, [Int])] = []
        func linear(_ prefix: String, out: Int, in inFeatures: Int, bias: Bool = true) {
            list.append(("\(prefix).weight", [out, inFeatures]))
            if bias { list.append(("\(prefix).bias", [out])) }
        }
        linear("x_embedder.proj", out: d, in: patchDim)
        linear("t_embedder.mlp.0", out: d, in: TimestepEmbedder.frequencyCount)
        linear("t_embedder.mlp.2", out: d, in: d)
        list.append(("y_embedder.embedding_table.weight", [labelTableRows, d]))
        if usesLoRAAdaLN { linear("global_adaLN_modulation.1", out: 6 * d, in: d, bias: adalnBias) }
        for i in 0..<depth {
            let p = "blocks.\(i)"
            linear("\(p).attn.qkv", out: 3 * d, in: d, bias: qkvBias)
            if usesQKNorm && qkNormWeight {
                list.append(("\(p).attn.q_norm.weight", [headDim]))
                list.append(("\(p).attn.k_norm.weight", [headDim]))
            }
            linear("\(p).attn.proj", out: d, in: d)
            if useSwiglu {
                linear("\(p).mlp.fc1_g", out: ffnHidden, in: d, bias: ffnBias)
                linear("\(p).mlp.fc1_x", out: ffnHidden, in: d, bias: ffnBias)
            } else {
                linear("\(p).mlp.fc1", out: ffnHidden, in: d, bias: ffnBias)
            }
            linear("\(p).mlp.fc2", out: d, in: ffnHidden, bias: ffnBias)
            if usesLoRAAdaLN, let r = adalnLoraDim {
                linear("\(p).adaLN_modulation.1", out: r, in: d, bias: adalnBias)
                linear("\(p).adaLN_modulation.2", out: 6 * d, in: r, bias: adalnBias)
            } else {
                linear("\(p).adaLN_modulation.1", out: 6 * d, in: d, bias: adalnBias)
            }
        }
        linear("final_layer.linear", out: patchSize * patchSize * outChannels, in: d)
        linear("final_layer.adaLN_modulation.1", out: 2 * d, in: d)
        return list
    }

    /// Total number of parameters.
    public var parameterCount: Int { tensorShapes().reduce(0) { $0 + $1.shape.reduce(1, *) } }
}
