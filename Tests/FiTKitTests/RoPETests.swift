import Foundation
import Testing
@testable import FiTKit

/// RoPE frequencies and multipliers against the reference at the XL head size, and the
/// published numbers of docs/model.md §3.2.
@Suite struct RoPETests {
    static let modes = RoPEInterpolation.allCases.flatMap { m in [(m, false), (m, true)] }

    @Test(arguments: modes)
    func frequenciesMatchTheReference(_ mode: RoPEInterpolation, decouple: Bool) throws {
        let file = try SafetensorsFile(path: Fixtures.forward("rope_tables.safetensors"))
        let key = "\(mode.customFreqs).\(decouple)"
        let data = try Data(contentsOf: URL(fileURLWithPath: file.path))
        func values(_ name: String) throws -> [Double] { try Self.float64(file: file, data: data, name: "\(key).\(name)") }
        let f = RoPE2D.frequencies(headDim: 72, theta: 10000, scaling: RoPEScaling(interpolation: mode, decouple: decouple),
                                   oriMaxPeLen: 16, rows: 20, columns: 40)
        for (ours, theirs) in zip(f.height, try values("freqs_h")) { #expect(abs(ours - theirs) <= 1e-9 * max(1, abs(theirs)), "\(key) h") }
        for (ours, theirs) in zip(f.width, try values("freqs_w")) { #expect(abs(ours - theirs) <= 1e-9 * max(1, abs(theirs)), "\(key) w") }
        #expect(f.height.count == 18)
        #expect(abs(f.multiplier - (try values("mscale"))[0]) < 1e-9, "\(key) multiplier")
    }

    /// Reads an F64 tensor's values (the reader itself only widens to F32).
    static func float64(file: SafetensorsFile, data: Data, name: String) throws -> [Double] {
        let e = try file.entry(name)
        let headerLength = data.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
        let start = 8 + Int(headerLength) + e.byteRange.lowerBound
        return data.withUnsafeBytes { raw in (0..<e.elementCount).map { raw.loadUnaligned(fromByteOffset: start + 8 * $0, as: Double.self) } }
    }

    @Test func publishedNumbers() {
        // NTK base for dim 36 at s = 2 is 20832.3: θ'_1 = base^(−2/36).
        let ntk = RoPE2D.frequencies(headDim: 72, theta: 10000, scaling: RoPEScaling(interpolation: .dynntk),
                                     oriMaxPeLen: 16, rows: 32, columns: 32)
        #expect(abs(1 / pow(ntk.height[1], 18) - 20832.3) < 0.1)
        // Attention scale p2² (VisionNTK + attention scale): 16×16 → 1.125, 20×20 → 1.2055.
        func pro2(_ h: Int, _ w: Int) -> Double {
            RoPE2D.frequencies(headDim: 72, theta: 10000, scaling: RoPEScaling(interpolation: .ntkpro2, decouple: true),
                               oriMaxPeLen: 16, rows: h, columns: w).multiplier
        }
        #expect(abs(pow(pro2(16, 16), 2) - 1.125) < 1e-4)
        #expect(abs(pow(pro2(20, 20), 2) - 1.2055) < 1e-4)
        // YaRN keeps the two highest frequencies of dim 36: γ = [1, 0.5, 0, …].
        let gamma = RoPE2D.oneMinusRamp(RoPE2D.correctionRange(fast: 32, slow: 1, dim: 36, theta: 10000, L: 16), count: 18)
        #expect(Array(gamma.prefix(3)) == [1, 0.5, 0])
    }

    @Test func tablesRotateRowsInTheFirstHalfAndColumnsInTheSecond() {
        let f = RoPE2D.frequencies(headDim: 8, theta: 10000, scaling: RoPEScaling(), oriMaxPeLen: 4, rows: 2, columns: 3)
        let (cos, sin) = RoPE2D.tables(f, headDim: 8, rows: 2, columns: 3)
        // Token 5 is row 1, column 2; dim 0 uses the row with θ₀ = 1, dim 4 the column.
        #expect(abs(Double(sin.data[5 * 8 + 0]) - Foundation.sin(1.0)) < 1e-6)
        #expect(abs(Double(sin.data[5 * 8 + 4]) - Foundation.sin(2.0)) < 1e-6)
        #expect(cos.data[5 * 8 + 0] == cos.data[5 * 8 + 1])
    }
}
