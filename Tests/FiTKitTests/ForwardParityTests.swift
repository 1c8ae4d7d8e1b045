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
        let (out, expected) = try c.run(try ModelCheckpoint(path: Fixtures.forward(c.checkpoint)).makeModel())
        #expect(out.shape == expected.shape)
        let error = relativeError(out.toArray(), expected.toArray())
        #expect(error <= 1e-4, "\(c.case): relative error \(error)")
    }
}
