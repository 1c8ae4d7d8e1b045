import Foundation
import Testing
@testable import FiTKit

/// Paths to the golden fixtures that `python/make_fixtures.py` writes.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The absolute path of `name` under `Fixtures/forward`.
    static func forward(_ name: String) -> String { directory.appendingPathComponent("forward/\(name)").path }

    /// One forward-pass parity case from `Fixtures/forward/manifest.json`.
    struct ForwardCase: Decodable, CustomStringConvertible {
        let `case`: String
        let checkpoint: String
        let inputs: String
        let output: String
        let interpolation: String
        let decouple: Bool
        let ori_max_pe_len: Int?
        var description: String { self.case }

        /// Runs the case's inputs through `model` (the case's checkpoint, in some precision):
        /// the output and the PyTorch reference's.
        func run(_ model: FiT) throws -> (output: Tensor, expected: Tensor) {
            let inputs = try SafetensorsFile(path: Fixtures.forward(self.inputs))
            let expected = try SafetensorsFile(path: Fixtures.forward(output)).tensor("out")
            guard let mode = RoPEInterpolation(rawValue: interpolation) else {
                throw FiTError.invalidInput("\(self.case): unknown interpolation \(interpolation)")
            }
            let mask = inputs.entries["mask"] == nil ? nil : try inputs.tensor("mask")
            let out = try model.forward(try inputs.tensor("x"), t: try inputs.tensor("t").toArray(),
                                        y: try inputs.integers("y"), mask: mask,
                                        rope: RoPEScaling(interpolation: mode, decouple: decouple, oriMaxPeLen: ori_max_pe_len))
            return (out, expected)
        }
    }

    static func forwardCases() throws -> [ForwardCase] {
        let data = try Data(contentsOf: URL(fileURLWithPath: forward("manifest.json")))
        return try JSONDecoder().decode([ForwardCase].self, from: data)
    }

    /// A scratch directory removed when the process ends (by the OS tmp cleaner) — unique per call.
    static func scratchDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fit-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Relative error `max|a − b| / max|b|`, the measure every parity test uses.
func relativeError(_ a: [Float], _ b: [Float], sourceLocation: SourceLocation = #_sourceLocation) -> Double {
    // Different lengths are a failed comparison, recorded where the helper was called (not a trap).
    guard a.count == b.count else {
        Issue.record("compared \(a.count) values with \(b.count)", sourceLocation: sourceLocation)
        return .infinity
    }
    var diff = 0.0, scale = 0.0
    for (x, y) in zip(a, b) {
        diff = max(diff, Double(abs(x - y)))
        scale = max(scale, Double(abs(y)))
    }
    return scale == 0 ? diff : diff / scale
}
