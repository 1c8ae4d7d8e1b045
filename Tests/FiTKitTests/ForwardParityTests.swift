import Foundation
import Testing
@testable import FiTKit

/// The Swift forward pass against the PyTorch reference (`python/fit_reference`), case by case.
@Suite struct ForwardParityTests {
    static let cases = (try? Fixtures.forwardCases()) ?? []

    @Test func manifestListsCases() {
        #expect(Self.cases.count >= 15)
    }

    @Test(arguments: cases)
    func matchesReference(_ c: Fixtures.ForwardCase) throws {
        let model = try ModelCheckpoint(path: Fixtures.forward(c.checkpoint)).makeModel()
        let inputs = try SafetensorsFile(path: Fixtures.forward(c.inputs))
        let expected = try SafetensorsFile(path: Fixtures.forward(c.output)).tensor("out")
        let interpolation = try #require(RoPEInterpolation(rawValue: c.interpolation))
        let mask = inputs.entries["mask"] == nil ? nil : try inputs.tensor("mask")
        let out = try model.forward(try inputs.tensor("x"), t: try inputs.tensor("t").toArray(),
                                    y: try inputs.integers("y"), mask: mask,
                                    rope: RoPEScaling(interpolation: interpolation, decouple: c.decouple,
                                                      oriMaxPeLen: c.ori_max_pe_len))
        #expect(out.shape == expected.shape)
        let error = relativeError(out.toArray(), expected.toArray())
        #expect(error <= 1e-4, "\(c.case): relative error \(error)")
    }
}
