import CKernels
import Foundation
import Testing
@testable import FiTKit

/// The C kernels are built three times (AVX-512, AVX2 with FMA, SSE2) and the CPU picks one. Every
/// set this CPU can run must agree with double-precision formulas at every row length from 0 to
/// 70 (all vector/tail splits of 16, 8 and 4 lanes), so that no machine gets a wrong set.
@Suite struct KernelInstructionSetTests {
    static let sets = ["avx512", "avx2", "sse2"]

    /// Deterministic inputs in [-8, 8) with every seventh value ×4 (exp and softmax see −32…32).
    static func row(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { i in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let u = Float(state >> 40) / Float(1 << 24) * 16 - 8
            return i % 7 == 3 ? u * 4 : u
        }
    }

    static func sigmoid(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

    @Test(arguments: sets) func everyKernelAtEveryLength(_ isa: String) throws {
        guard let table = fit_kernels_table(isa)?.pointee else {
            #expect(isa != "sse2", "the SSE2 set must always exist")
            return
        }
        for count in 0...70 {
            let x = Self.row(count, seed: UInt64(count) * 7 + 1)
            let g = Self.row(count, seed: UInt64(count) * 7 + 2)
            let context = "\(isa), \(count) values"

            var out = [Float](repeating: .nan, count: count)
            table.exp(x, &out, count)
            for i in 0..<count {
                let want = Foundation.exp(Double(x[i]))
                #expect(abs(Double(out[i]) - want) <= 3e-7 * want, "exp \(context)")
            }

            var soft = x
            table.softmax(&soft, count)
            let m = x.map(Double.init).max() ?? 0
            let e = x.map { Foundation.exp(Double($0) - m) }, s = e.reduce(0, +)
            for i in 0..<count { #expect(abs(Double(soft[i]) - e[i] / s) < 1e-6, "softmax \(context)") }

            var scaled = x, bits = [UInt16](repeating: 0, count: count)
            table.softmax_bf16(&scaled, count, 0.5, &bits)
            let e2 = x.map { Foundation.exp(0.5 * (Double($0) - m)) }, s2 = e2.reduce(0, +)
            for i in 0..<count {
                let got = Double(BFloat16.value(bits[i]))
                #expect(abs(got - e2[i] / s2) <= 0.004 * (e2[i] / s2) + 1e-9, "softmax_bf16 \(context)")
            }

            var silu = x
            table.silu(&silu, count)
            var gate = g
            table.silu_multiply(&gate, x, count)
            var gelu = x
            table.gelu_tanh(&gelu, count)
            var affine = [Float](repeating: .nan, count: count)
            table.affine(x, &affine, count, 0.5, -0.25, 1)
            var residual = g
            table.gated_add(x, g, &residual, count)
            for i in 0..<count {
                let v = Double(x[i]), w = Double(g[i])
                #expect(abs(Double(silu[i]) - v * Self.sigmoid(v)) < 2e-6 * max(1, abs(v)), "silu \(context)")
                #expect(abs(Double(gate[i]) - w * Self.sigmoid(w) * v) < 2e-6 * max(1, abs(w * v)), "silu_multiply \(context)")
                let u = 0.7978845608028654 * (v + 0.044715 * v * v * v)
                #expect(abs(Double(gelu[i]) - 0.5 * v * (1 + tanh(u))) < 2e-6 * max(1, abs(v)), "gelu \(context)")
                let a = v * 0.5 - 0.25
                #expect(abs(Double(affine[i]) - a * Self.sigmoid(a)) < 2e-6 * max(1, abs(a)), "affine \(context)")
                #expect(abs(Double(residual[i]) - (w + w * v)) < 1e-5 * max(1, abs(w + w * v)), "gated_add \(context)")
            }

            guard count > 0 else { continue }
            let shift = g.map { $0 * 0.1 }, scale = x.map { $0 * -0.05 }
            var normed = [Float](repeating: .nan, count: count)
            table.layer_norm(x, &normed, count, 1e-6, shift, scale)
            let mean = x.reduce(0.0) { $0 + Double($1) } / Double(count)
            let variance = x.reduce(0.0) { $0 + pow(Double($1) - mean, 2) } / Double(count)
            for i in 0..<count {
                let n = (Double(x[i]) - mean) / (variance + 1e-6).squareRoot()
                let want = n * (1 + Double(scale[i])) + Double(shift[i])
                #expect(abs(Double(normed[i]) - want) < 2e-5 * max(1, abs(want)), "layer_norm \(context)")
            }
        }
    }

    /// float32 → bfloat16: nearest even, ties included, NaN stays NaN, ±∞ and ±0 exact, at every
    /// length, against the scalar ``BFloat16/bits(_:)``.
    @Test(arguments: sets) func bfloat16ConversionMatchesTheScalarRule(_ isa: String) {
        guard let table = fit_kernels_table(isa)?.pointee else { return }
        let special: [Float] = [.nan, -.nan, .infinity, -.infinity, 0, -0, .leastNonzeroMagnitude,
                                .greatestFiniteMagnitude, Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000),
                                Float(bitPattern: 0x3F80_7FFF), Float(bitPattern: 0x7F7F_FFFF)]
        for count in 0...70 {
            let x = (0..<count).map { i in i < special.count ? special[(i + count) % special.count] : Self.row(count, seed: 9)[i] * 1e3 }
            var out = [UInt16](repeating: 0, count: count)
            table.to_bf16(x, &out, count)
            for i in 0..<count { #expect(out[i] == BFloat16.bits(x[i]), "\(isa), \(count) values, x = \(x[i])") }
        }
    }

    /// The widest set this CPU runs, unless FIT_KERNELS names a narrower one it runs.
    @Test func theChosenSetIsTheWidestThisCPURuns() {
        let asked = ProcessInfo.processInfo.environment["FIT_KERNELS"].flatMap { fit_kernels_table($0) != nil ? $0 : nil }
        let widest = Self.sets.first { fit_kernels_table($0) != nil }
        #expect(Kernels.instructionSet == asked ?? widest)
    }
}
