import Foundation
import Testing
@testable import FiTKit

/// Configuration decoding with the official names, validation, and the official presets.
@Suite struct ConfigurationTests {
    func decode(_ json: String) throws -> FiTConfiguration {
        try ModelCheckpoint.decodeConfiguration(Data(json.utf8), origin: "test")
    }

    @Test func nullAndMissingMeanTheOfficialDefault() throws {
        let c = try decode(#"{"hidden_size": 64, "num_heads": null, "q_norm": null, "ori_max_pe_len": null}"#)
        #expect(c.hiddenSize == 64)
        #expect(c.numHeads == 16)
        #expect(c.qNorm == nil)
        #expect(c.defaultOriMaxPeLen == 16)
        #expect(c.customFreqs == "normal")
    }

    @Test func officialYAMLParamsIncludingTrainingOnlyKeysAreAccepted() throws {
        let c = try decode(#"""
        {"network_config": {"params": {"context_size": 1024, "use_sit": true, "use_swiglu": true,
         "adaln_type": "lora", "adaln_lora_dim": 288, "q_norm": "layernorm", "k_norm": "layernorm",
         "online_rope": true, "use_checkpoint": true, "abs_pos_embed": null, "custom_freqs": "ntk-aware",
         "decouple": true, "ori_max_pe_len": 16, "time_shifting": 1, "learn_sigma": false,
         "pretrain_ckpt": "x.bin", "made_up": 3}}}
        """#)
        #expect(c.contextSize == 1024)
        #expect(c.adalnLoraDim == 288)
        #expect(c.unknownKeys == ["made_up", "pretrain_ckpt"])
        try c.validate()
    }

    @Test func valuesTheModelCannotHonourAreClearErrors() throws {
        var c = ModelPreset.fitv2XL.configuration
        c.addRelPeToV = true
        #expect(throws: FiTError.unsupportedConfiguration(key: "add_rel_pe_to_v", value: "true",
                                                          reason: "RoPE is applied to q and k only")) { try c.validate() }
        c = ModelPreset.fitv2XL.configuration
        c.customFreqs = "xpos"
        #expect(throws: FiTError.self) { try c.validate() }
        c = ModelPreset.fitv2XL.configuration
        c.numHeads = 5
        #expect(throws: FiTError.self) { try c.validate() }
    }

    /// `adaln_type` and `norm_type` decode into enums that keep any other value for the error.
    @Test func adaLNAndNormTypesDecodeEveryValueAndRefuseTheUnknown() throws {
        let lora = try decode(#"{"hidden_size": 64, "depth": 2, "num_heads": 4, "adaln_type": "lora", "adaln_lora_dim": 8}"#)
        #expect(lora.adalnType == .lora && lora.usesLoRAAdaLN && lora.normType == .layernorm)
        let again = try JSONDecoder().decode(FiTConfiguration.self, from: JSONEncoder().encode(lora))
        #expect(again.adalnType == .lora)
        let swiglu = try decode(#"{"hidden_size": 64, "depth": 2, "num_heads": 4, "adaln_type": "swiglu"}"#)
        #expect(swiglu.adalnType == .unsupported("swiglu"))
        #expect(throws: FiTError.unsupportedConfiguration(key: "adaln_type", value: "swiglu",
                                                          reason: "use 'normal' (v1) or 'lora' (v2)")) { try swiglu.validate() }
        let rms = try decode(#"{"hidden_size": 64, "depth": 2, "num_heads": 4, "norm_type": "rmsnorm"}"#)
        #expect(rms.normType == .unsupported("rmsnorm"))
        #expect(throws: FiTError.unsupportedConfiguration(key: "norm_type", value: "rmsnorm",
                                                          reason: "only 'layernorm' is implemented")) { try rms.validate() }
        #expect(throws: FiTError.self) { try decode(#"{"adaln_type": 3}"#) }
    }

    /// Every value a hostile or mistaken file may hold that the model cannot run: each one is an
    /// error naming its key, before any shape arithmetic or allocation depends on it.
    @Test(arguments: [
        ("num_heads", "0"), ("num_heads", "-4"), ("patch_size", "4611686018427387904"), ("patch_size", "0"),
        ("depth", "-1"), ("depth", "100000000"), ("hidden_size", "9223372036854775807"), ("in_channels", "1000000000"),
        ("num_classes", "0"), ("num_classes", "4000000000000"), ("context_size", "0"), ("context_size", "1099511627776"),
        ("mlp_ratio", "0"), ("mlp_ratio", "-1"), ("mlp_ratio", "1e300"), ("mlp_ratio", "0.0001"),
        ("class_dropout_prob", "1"), ("class_dropout_prob", "-0.1"), ("rope_theta", "0"), ("rope_theta", "-10000"),
        ("rope_theta", "1e999"), ("time_shifting", "0"), ("adaln_lora_dim", "0"), ("adaln_lora_dim", "100000"),
        ("ori_max_pe_len", "0"), ("max_pe_len_h", "-3"), ("max_pe_len_w", "100000"),
    ])
    func outOfRangeValuesNameTheirKey(_ key: String, _ value: String) throws {
        var fields = ["hidden_size": "64", "depth": "2", "num_heads": "4", "adaln_type": #""lora""#, "adaln_lora_dim": "8"]
        fields[key] = value
        let json = "{" + fields.map { "\"\($0.key)\": \($0.value)" }.joined(separator: ", ") + "}"
        guard let c = try? decode(json) else { return } // a value JSON or the decoder already refuse (1e999) is refused too
        do {
            try c.validate()
            Issue.record("\(key) = \(value) was accepted")
        } catch {
            #expect("\(error)".contains(key), "\(error)")
        }
    }

    @Test func theSameConfigurationWithSaneValuesIsAccepted() throws {
        try decode(#"{"hidden_size": 64, "depth": 2, "num_heads": 4, "adaln_type": "lora", "adaln_lora_dim": 8}"#).validate()
    }

    @Test func wrongTypeNamesTheKey() {
        #expect(throws: FiTError.self) { try decode(#"{"depth": "deep"}"#) }
        do { _ = try decode(#"{"depth": "deep"}"#) } catch { #expect("\(error)".contains("depth")) }
    }

    @Test(arguments: [
        (ModelPreset.fitv1XL, 347, 823_599_392),
        (ModelPreset.fitv2XL, 517, 671_045_776),
        (ModelPreset.fitv2ThreeB, 573, 2_971_928_080),
        (ModelPreset.fitv2HRXL, 517, 671_045_776),
        (ModelPreset.fitv2HRThreeB, 573, 2_971_928_080),
    ])
    func presetsMatchTheReleasedFiles(_ preset: ModelPreset, tensors: Int, parameters: Int) throws {
        let c = preset.configuration
        try c.validate()
        #expect(c.tensorShapes().count == tensors)
        #expect(c.parameterCount == parameters)
    }

    @Test func presetsAreRecognisedByShape() {
        for preset in [ModelPreset.fitv1XL, .fitv2XL, .fitv2ThreeB] {
            let shapes = Dictionary(uniqueKeysWithValues: preset.configuration.tensorShapes().map { ($0.name, $0.shape) })
            #expect(ModelPreset.detect(shapes: shapes, path: "/models/model_ema.safetensors") == preset)
        }
        let xl = Dictionary(uniqueKeysWithValues: ModelPreset.fitv2XL.configuration.tensorShapes().map { ($0.name, $0.shape) })
        #expect(ModelPreset.detect(shapes: xl, path: "/models/FiTv2_XL_HRFT/model_ema.safetensors") == .fitv2HRXL)
        var broken = xl
        broken["blocks.0.attn.qkv.weight"] = [1, 1]
        #expect(ModelPreset.detect(shapes: broken, path: "m.safetensors") == nil)
    }

    @Test func sidecarJSONIsFoundBesideTheCheckpoint() throws {
        let dir = Fixtures.scratchDirectory()
        let source = try SafetensorsFile(path: Fixtures.forward("pixel-tiny.safetensors"))
        let path = dir.appendingPathComponent("model.safetensors").path
        try SafetensorsWriter.write(try source.names.map { ($0, .float32(try source.tensor($0))) }, to: path)
        #expect(throws: FiTError.missingConfiguration(path: path)) { try ModelCheckpoint(path: path) }
        try Data(source.metadata["fit_config"]!.utf8).write(to: URL(fileURLWithPath: path + ".json"))
        let checkpoint = try ModelCheckpoint(path: path)
        #expect(checkpoint.source == .sidecar(path + ".json"))
        #expect(checkpoint.configuration.inChannels == 3)
        _ = try checkpoint.makeModel()
    }

    @Test func forwardCostMatchesTheBrief() {
        // docs/model.md §2.1: v2-XL 152.3 GMAC and v1-XL 156.7 GMAC at 256 tokens.
        #expect(abs(Double(ModelPreset.fitv2XL.configuration.forwardMACs(batch: 1, tokens: 256)) / 1e9 - 152.3) < 0.3)
        #expect(abs(Double(ModelPreset.fitv1XL.configuration.forwardMACs(batch: 1, tokens: 256)) / 1e9 - 156.7) < 0.3)
    }
}
