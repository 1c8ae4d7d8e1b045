import Foundation
import Testing
@testable import FiTKit

/// The bf16 path (oneDNN) against the fp32 reference: conversion, the precision rule, and the
/// documented accuracy bounds (docs/cpu.md §4). The products need a CPU with native bf16.
@Suite struct BFloat16Tests {
    /// Round-to-nearest-even, NaN kept, infinities kept, for every edge a float can take.
    @Test func conversionRoundsToNearestEven() {
        #expect(BFloat16.bits(1) == 0x3F80)
        #expect(BFloat16.bits(-2) == 0xC000)
        #expect(BFloat16.value(BFloat16.bits(Float(bitPattern: 0x3F80_8000))) == 1)           // tie → even (down)
        #expect(BFloat16.bits(Float(bitPattern: 0x3F81_8000)) == 0x3F82)                       // tie → even (up)
        #expect(BFloat16.bits(Float(bitPattern: 0x3F80_8001)) == 0x3F81)                       // above the tie
        #expect(BFloat16.bits(.infinity) == 0x7F80)
        #expect(BFloat16.bits(-.infinity) == 0xFF80)
        #expect(BFloat16.value(BFloat16.bits(.nan)).isNaN)
        #expect(BFloat16.value(BFloat16.bits(Float(bitPattern: 0x7FFF_FFFF))).isNaN)           // no carry into the sign
        #expect(BFloat16.bits(.greatestFiniteMagnitude) == 0x7F80)                             // overflows to infinity, as rounding says
        // A sweep: every converted value is within half a bf16 ulp of the input.
        var seed: UInt64 = 0x5EED
        for _ in 0..<100_000 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let x = Float(bitPattern: UInt32(truncatingIfNeeded: seed >> 32) & 0x7F7F_FFFF) * ((seed & 1) == 0 ? 1 : -1)
            guard x.isFinite, abs(x) < 1e38 else { continue }
            let y = BFloat16.value(BFloat16.bits(x))
            // One bf16 ulp: 2^(exponent − 7), and 2^−133 among the subnormals.
            let ulp = max(Float(bitPattern: x.bitPattern & 0x7F80_0000) * Float(1.0 / 128), Float(sign: .plus, exponent: -133, significand: 1))
            #expect(abs(y - x) <= ulp / 2, "x = \(x) (seed \(seed))")
        }
    }

    /// The fused attention softmax (scale, exp, normalise, round to bf16) against the float32
    /// softmax rounded afterwards: within one bf16 ulp, for lengths around the
    /// vector width (masked entries come out below 1e-30, as exp clamps at −87).
    @Test func fusedSoftmaxMatchesTheFloat32One() {
        var seed: UInt64 = 0xA77E
        for count in [1, 7, 15, 16, 17, 31, 64, 100, 257] {
            var row = [Float](repeating: 0, count: count)
            for j in 0..<count {
                seed = seed &* 6364136223846793005 &+ 1442695040888963407
                row[j] = Float(Int64(bitPattern: seed) >> 40) / Float(1 << 20)   // about ±8
            }
            if count > 2 { row[1] = -.infinity }
            let scale: Float = 0.125
            var reference = row.map { $0 * scale }
            Kernels.softmax(&reference, count: count)
            var work = row, out = [UInt16](repeating: 0, count: count)
            BFloat16.softmax(&work, count: count, scale: scale, into: &out)
            for j in 0..<count {
                let expected = BFloat16.value(BFloat16.bits(reference[j])), got = BFloat16.value(out[j])
                #expect(abs(got - expected) <= max(expected, got) / 128 + 1e-30, "count \(count), j \(j): \(got) vs \(expected)")
            }
            if count > 2 { #expect(BFloat16.value(out[1]) < 1e-30, "a masked entry weighs \(BFloat16.value(out[1]))") }
            let total = out.reduce(Float(0)) { $0 + BFloat16.value($1) }
            #expect(abs(total - 1) <= 0.02, "count \(count): sums to \(total)")
        }
    }

    @Test func autoFollowsTheCPU() throws {
        #expect(try Precision.resolve(.auto, nativeBFloat16: true) == .bf16)
        #expect(try Precision.resolve(.auto, nativeBFloat16: false) == .fp32)
        #expect(try Precision.resolve(.fp32, nativeBFloat16: true) == .fp32)
        #expect(try Precision.resolve(.bf16, nativeBFloat16: true) == .bf16)
        #expect(throws: FiTError.self) { try Precision.resolve(.bf16, nativeBFloat16: false) }
        do {
            _ = try Precision.resolve(.bf16, nativeBFloat16: false)
        } catch {
            #expect("\(error)".contains("native bfloat16"))
            #expect("\(error)".contains("--precision fp32"))
        }
    }

    /// FiTv2-XL layer shapes (hidden 1152, 16 heads, SwiGLU, LoRA adaLN), 4 blocks, 256 tokens,
    /// batch 2, random weights: the bf16 forward's relative error against fp32.
    @Test(.enabled(if: OneDNN.hasNativeBFloat16))
    func xlShapedForwardStaysClose() throws {
        var configuration = ModelPreset.fitv2XL.configuration
        configuration.depth = 4
        let weights = RandomWeights(configuration: configuration, seed: 7)
        let fp32 = try FiT(configuration: configuration, weights: weights)
        let bf16 = try FiT(configuration: configuration, weights: weights, precision: .bf16)
        let x = Tensor(zeros: [2, configuration.inChannels, 32, 32])
        var seed: UInt64 = 11
        for i in 0..<x.count {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            x.data[i] = Float(Int64(bitPattern: seed) >> 40) / Float(1 << 23)
        }
        let a = try fp32.forward(x, t: [0.3, 0.8], y: [1, 1000]).toArray()
        let b = try bf16.forward(x, t: [0.3, 0.8], y: [1, 1000]).toArray()
        let error = relativeError(b, a)
        print("bf16 vs fp32, FiTv2-XL shapes (4 blocks, 256 tokens): relative error \(error)")
        #expect(error <= Self.forwardBound, "relative error \(error)")
    }

    /// The documented bound on a forward's relative error (max |Δ| / max |fp32|) in bf16.
    static let forwardBound = 0.03

    /// The tiny committed fixtures in bf16 against the PyTorch fp32 outputs, masks and
    /// extrapolation included: the same bound holds on every case.
    @Test(.enabled(if: OneDNN.hasNativeBFloat16), arguments: ForwardParityTests.cases)
    func fixturesStayClose(_ c: Fixtures.ForwardCase) throws {
        let (out, expected) = try c.run(try ModelCheckpoint(path: Fixtures.forward(c.checkpoint)).makeModel(precision: .bf16))
        let error = relativeError(out.toArray(), expected.toArray())
        print("bf16 vs PyTorch fp32, \(c.case): relative error \(error)")
        #expect(error <= Self.forwardBound, "\(c.case): relative error \(error)")
        #expect(error > 0, "\(c.case): bf16 gave the fp32 result exactly; is the bf16 path running?")
    }

    /// Whole embedded-model trajectories (Euler 30 steps, guidance 4, 32×32, one per class) in bf16
    /// (the transformer and the VAE's convolutions) against fp32: the final images' difference in 8-bit levels, mean and 99th percentile.
    @Test(.enabled(if: OneDNN.hasNativeBFloat16))
    func embeddedTrajectoryEndsOnNearlyTheSameImage() throws {
        let checkpoint = try ModelCheckpoint(path: EmbeddedModelParityTests.modelPath)
        let fp32 = try checkpoint.makeModel(), bf16 = try checkpoint.makeModel(precision: .bf16)
        let vae = try #require(checkpoint.carriedVAE)
        let fp32Decoder = try vae.makeDecoder(), bf16Decoder = try vae.makeDecoder(precision: .bf16)
        var differences: [Int] = []
        for classID in 0..<fp32.configuration.numClasses {
            let parameters = SamplingParameters(classes: [classID], height: 8, width: 8, steps: 30, sampler: .euler,
                                                guidanceScale: 4, seed: UInt64(100 + classID))
            func image(_ model: FiT, _ decoder: VAEDecoder) throws -> RGBImage {
                let final = try #require(Array(try DenoisingTrajectory(model: model, parameters: parameters)).last).next
                return RGBImage(tensor: try decoder.decode(final))
            }
            let a = try image(fp32, fp32Decoder), b = try image(bf16, bf16Decoder)
            differences += zip(a.pixels, b.pixels).map { abs(Int($0) - Int($1)) }
        }
        differences.sort()
        let mean = Double(differences.reduce(0, +)) / Double(differences.count)
        let p99 = differences[differences.count * 99 / 100]
        print("embedded model, bf16 vs fp32 after 30 steps: mean \(mean) levels, 99th percentile \(p99), max \(differences.last!)")
        #expect(mean <= Self.trajectoryMeanBound, "mean difference \(mean) levels")
        #expect(p99 <= Self.trajectoryP99Bound, "99th percentile \(p99) levels")
        #expect(differences.last! > 0, "bf16 gave the fp32 images exactly; is the bf16 path running?")
    }

    /// Documented bounds on the final-image difference of a whole trajectory (8-bit levels).
    static let trajectoryMeanBound = 1.0
    static let trajectoryP99Bound = 8

    /// Seeded random small configurations (v1 and v2 layouts, odd widths and token counts,
    /// masks, batch 1–3): every bf16 forward is finite, within the bound of fp32, and never
    /// traps in oneDNN. FIT_BF16_SWEEP_SEED and FIT_BF16_SWEEP_CASES change the sweep.
    @Test(.enabled(if: OneDNN.hasNativeBFloat16))
    func randomSmallModelsStayClose() throws {
        let environment = ProcessInfo.processInfo.environment
        var seed = environment["FIT_BF16_SWEEP_SEED"].flatMap(UInt64.init) ?? 0xB_F16
        let cases = environment["FIT_BF16_SWEEP_CASES"].flatMap(Int.init) ?? 24
        let firstSeed = seed
        func next(_ n: Int) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int((seed >> 33) % UInt64(n))
        }
        for index in 0..<cases {
            var c = FiTConfiguration()
            c.numHeads = [1, 2, 3, 4][next(4)]
            c.hiddenSize = c.numHeads * [4, 8, 12, 20][next(4)]
            c.depth = 1 + next(2)
            c.patchSize = 1 + next(2)
            c.inChannels = [3, 4][next(2)]
            c.numClasses = 3
            c.contextSize = 64
            if next(2) == 0 {
                c.useSit = true; c.learnSigma = false; c.useSwiglu = true
                c.qNorm = "layernorm"; c.kNorm = "layernorm"; c.adalnType = .lora; c.adalnLoraDim = 4
            }
            try c.validate()
            let weights = RandomWeights(configuration: c, seed: UInt64(index))
            let fp32 = try FiT(configuration: c, weights: weights)
            let bf16 = try FiT(configuration: c, weights: weights, precision: .bf16)
            let (rows, columns, batch) = (1 + next(7), 1 + next(9), 1 + next(3))
            let x = Tensor(zeros: [batch, c.inChannels, rows * c.patchSize, columns * c.patchSize])
            for i in 0..<x.count { x.data[i] = Float(next(2001) - 1000) / 500 }
            let tokens = rows * columns
            let mask: Tensor? = next(2) == 0 || tokens < 2 ? nil
                : Tensor(shape: [batch, tokens], values: (0..<(batch * tokens)).map { $0 % tokens < tokens - 1 - ($0 / tokens) % (tokens - 1) ? 1 : 0 })
            let t = (0..<batch).map { _ in c.useSit ? Float(next(1000)) / 1000 : Float(next(1000)) }
            let y = (0..<batch).map { _ in next(4) }
            let a = try fp32.forward(x, t: t, y: y, mask: mask).toArray()
            let b = try bf16.forward(x, t: t, y: y, mask: mask).toArray()
            let error = relativeError(b, a)
            // LayerNorm over 4–12 values magnifies rounding: widths under 32 get a looser bound.
            let bound = c.hiddenSize >= 32 ? Self.forwardBound : 0.15
            #expect(b.allSatisfy(\.isFinite) && error <= bound,
                    "case \(index) (sweep seed \(firstSeed)): hidden \(c.hiddenSize), heads \(c.numHeads), \(rows)×\(columns) tokens, batch \(batch): relative error \(error)")
        }
    }

    /// Beyond about 724 tokens the bf16 attention runs in blocks of query rows
    /// (``BFloat16AttentionProducts/slicing(heads:tokens:)``); 33×25 = 825 tokens make blocks of
    /// 128 and a partial last one, with padding masks that differ per sample.
    @Test(.enabled(if: OneDNN.hasNativeBFloat16))
    func queryBlockedAttentionStaysClose() throws {
        var c = FiTConfiguration()
        c.numHeads = 4; c.hiddenSize = 64; c.depth = 1; c.patchSize = 1; c.inChannels = 4; c.numClasses = 3
        c.contextSize = 1024
        c.useSit = true; c.learnSigma = false; c.useSwiglu = true
        c.qNorm = "layernorm"; c.kNorm = "layernorm"; c.adalnType = .lora; c.adalnLoraDim = 4
        try c.validate()
        let (rows, columns, batch) = (33, 25, 2), tokens = 33 * 25
        #expect(BFloat16AttentionProducts.slicing(heads: c.numHeads, tokens: tokens).queries < tokens)
        let weights = RandomWeights(configuration: c, seed: 7)
        let fp32 = try FiT(configuration: c, weights: weights)
        let bf16 = try FiT(configuration: c, weights: weights, precision: .bf16)
        let x = Tensor(zeros: [batch, c.inChannels, rows, columns])
        for i in 0..<x.count { x.data[i] = Float((i * 7919) % 2001 - 1000) / 500 }
        let real = [tokens, tokens - 200]
        let mask = Tensor(shape: [batch, tokens], values: (0..<(batch * tokens)).map { $0 % tokens < real[$0 / tokens] ? 1 : 0 })
        let a = try fp32.forward(x, t: [0.3, 0.7], y: [0, 2], mask: mask).toArray()
        let b = try bf16.forward(x, t: [0.3, 0.7], y: [0, 2], mask: mask).toArray()
        let error = relativeError(b, a)
        print("bf16 vs fp32, \(tokens) tokens in query blocks: relative error \(error)")
        #expect(b.allSatisfy(\.isFinite) && error <= Self.forwardBound, "relative error \(error)")
    }

    /// How the bf16 attention slices its work: whole score matrices while they fit the budget,
    /// else blocks of at least 128 query rows; head groups divide the heads; nothing exceeds the
    /// budget unless a single head's minimum block does.
    @Test func attentionSlicingStaysWithinItsBudget() {
        let budget = BFloat16AttentionProducts.scoreBudget
        for heads in [1, 2, 3, 4, 6, 8, 16, 24, 32] {
            for tokens in [1, 7, 64, 144, 256, 300, 362, 363, 483, 724, 725, 825, 1024, 4096] {
                let (group, queries) = BFloat16AttentionProducts.slicing(heads: heads, tokens: tokens)
                let context = "\(heads) heads, \(tokens) tokens: \(group) heads × \(queries) queries"
                #expect(heads % group == 0 && queries >= 1 && queries <= tokens, "\(context)")
                #expect(group * queries * tokens <= budget || (group == 1 && queries == min(tokens, BFloat16AttentionProducts.minimumQueries)),
                        "\(context)")
                if tokens * tokens <= budget { #expect(queries == tokens, "\(context)") }
            }
        }
    }

    /// Documented bound on a bf16 VAE decode's relative error against the PyTorch fp32 image.
    static let decodeBound = 0.02

    /// The VAE fixtures (reduced layouts and sd-vae-ft-ema's real shapes) decoded with bf16
    /// convolutions stay within ``decodeBound`` of PyTorch's fp32 images.
    @Test(.enabled(if: OneDNN.hasNativeBFloat16), arguments: [
        ("tiny-modern.safetensors", "tiny-modern.io.safetensors"), ("tiny-3up.safetensors", "tiny-3up.io.safetensors"),
        (nil, "sd-vae-ft-ema-synthetic.safetensors"),
    ] as [(String?, String)])
    func vaeFixturesStayClose(weights: String?, io name: String) throws {
        let io = try SafetensorsFile(path: VAEDecoderTests.vae(name))
        let decoder = try weights.map { try VAECheckpoint(path: VAEDecoderTests.vae($0)).makeDecoder(precision: .bf16) }
            ?? VAEDecoder(configuration: .sdVAEFtEMA, weights: SyntheticWeights(shapes: VAEConfiguration.sdVAEFtEMA.tensorShapes()),
                          precision: .bf16)
        #expect(decoder.precision == .bf16)
        let image = try decoder.decode(try io.tensor("z")).toArray(), expected = try io.tensor("image").toArray()
        let error = relativeError(image, expected)
        print("VAE \(name) bf16 vs PyTorch fp32: relative error \(error)")
        #expect(image.allSatisfy(\.isFinite) && error <= Self.decodeBound, "relative error \(error)")
        #expect(error > 1e-6, "bf16 gave the fp32 image exactly; are the convolutions running in bf16?")
    }

    /// One 3×3 convolution in bf16 (oneDNN, channels-last gather and scatter) against the fp32
    /// Winograd one, over channel counts that are and are not multiples of 16, with and without
    /// upsampling, normalising and accumulating, at square and oblong sizes.
    @Test(.enabled(if: OneDNN.hasNativeBFloat16), arguments: [
        (3, 5, 1, 1), (16, 32, 4, 7), (20, 12, 9, 5), (64, 3, 6, 6), (33, 47, 3, 11),
    ])
    func convolutionMatchesWinograd(inChannels: Int, outChannels: Int, height: Int, width: Int) throws {
        var seed: UInt64 = UInt64(inChannels * 1000 + outChannels)
        func random() -> Float {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int((seed >> 33) % 2001) - 1000) / 1000
        }
        let weight = Tensor(shape: [outChannels, inChannels, 3, 3], values: (0..<(outChannels * inChannels * 9)).map { _ in random() * 0.2 })
        let bias = Tensor(shape: [outChannels], values: (0..<outChannels).map { _ in random() })
        let fp32 = try Conv2D(weight: weight, bias: bias), bf16 = try Conv2D(weight: weight, bias: bias, precision: .bf16)
        #expect(fp32.oneDNN == nil && bf16.oneDNN != nil && bf16.winograd == nil)
        let input = (0..<(inChannels * height * width)).map { _ in random() }
        let affine = ChannelAffine(scale: (0..<inChannels).map { _ in 1 + random() / 2 }, shift: (0..<inChannels).map { _ in random() }, silu: true)
        for upsampling in [false, true] {
            for normalizing in [nil, affine] {
                for accumulate in [false, true] {
                    let s = upsampling ? 2 : 1, count = outChannels * height * s * width * s
                    let start = (0..<count).map { Float($0 % 7) - 3 }
                    var a = start, b = start
                    input.withUnsafeBufferPointer { x in
                        a.withUnsafeMutableBufferPointer { fp32.apply(x.baseAddress!, height: height, width: width, upsampling: upsampling,
                                                                      normalizing: normalizing, into: $0.baseAddress!, accumulate: accumulate) }
                        b.withUnsafeMutableBufferPointer { bf16.apply(x.baseAddress!, height: height, width: width, upsampling: upsampling,
                                                                      normalizing: normalizing, into: $0.baseAddress!, accumulate: accumulate) }
                    }
                    let error = relativeError(b, a)
                    #expect(error <= 0.01 && error > 0,
                            "\(inChannels)→\(outChannels) at \(height)×\(width), upsampling \(upsampling), normalising \(normalizing != nil), accumulate \(accumulate): relative error \(error)")
                }
            }
        }
    }
}
