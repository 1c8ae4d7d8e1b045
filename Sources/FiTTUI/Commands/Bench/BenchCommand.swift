import ArgumentParser
import FiTKit
import Foundation

/// `fit bench`: speed measurements, always next to a rate measured in the same run.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks (speed is measured here, never in tests).",
        subcommands: [ForwardBench.self, GenerateBench.self, DecodeBench.self, FrameBench.self]
    )
}

extension ModelPreset: ExpressibleByArgument {}

/// Wall-clock timing shared by the benchmarks.
enum BenchTiming {
    /// Runs `body` `warmup` times untimed, then `iterations` times timed; the median and best in ms.
    static func milliseconds(warmup: Int, iterations: Int, _ body: () throws -> Void) rethrows -> (median: Double, best: Double) {
        for _ in 0..<warmup { try body() }
        var times: [Double] = []
        for _ in 0..<iterations {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        return (times.sorted()[times.count / 2], times.min()!)
    }
}

/// How many times a benchmark runs its work, and how it reports.
struct BenchRepetitions: ParsableArguments {
    @Option(help: "Timed runs.")
    var iterations = 3

    @Option(help: "Untimed warm-up runs.")
    var warmup = 1

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard (1...1000).contains(iterations), (0...1000).contains(warmup) else {
            throw ValidationError("--iterations must be in 1…1000 and --warmup in 0…1000")
        }
    }
}

/// What a benchmark reports: one JSON object (`--json`, sorted keys, the same keys as the
/// PyTorch peers in python/ where they measure the same thing), or its text lines.
struct BenchReport {
    var fields: [String: Any]
    var lines: [String]

    func print(json: Bool) throws {
        if json {
            var fields = fields
            fields["elementwise_isa"] = Kernels.instructionSet
            let data = try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
            Swift.print(String(decoding: data, as: UTF8.self))
        } else {
            Swift.print(lines.joined(separator: "\n"))
        }
    }
}
