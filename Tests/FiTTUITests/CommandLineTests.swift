import Foundation
import Testing
import FiTKit

/// The `fit` binary end to end: outputs, exit codes and one-line errors.
@Suite struct CommandLineTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = root.appendingPathComponent("Tests/FiTKitTests/Fixtures/forward")

    /// The built binary: `$FIT_BINARY`, else beside the test bundle, else `.build/debug/fit`.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["FIT_BINARY"] { return path }
        let sibling = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("fit").path
        if FileManager.default.isExecutableFile(atPath: sibling) { return sibling }
        return root.appendingPathComponent(".build/debug/fit").path
    }

    struct Result { let status: Int32; let stdout: String; let stderr: String }

    func fit(_ arguments: String...) throws -> Result { try fit(arguments, environment: [:]) }

    /// Runs fit with `arguments` and `environment` added to (or, with an empty value, removed from) this process's.
    func fit(_ arguments: [String], environment: [String: String]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value.isEmpty ? nil : value }
        process.environment = env
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }

    func fixture(_ name: String) -> String { Self.fixtures.appendingPathComponent(name).path }

    func scratch(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fit-cli-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    /// Expects exit code 2, a single `error:` line on stderr mentioning `fragment`, and no backtrace.
    func expectBadInput(_ r: Result, mentions fragment: String) {
        #expect(r.status == 2)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.hasPrefix("error: "))
        #expect(r.stderr.contains(fragment), "stderr: \(r.stderr)")
    }

    @Test func forwardWritesWhatTheReferenceComputes() throws {
        let output = scratch("out.safetensors")
        let r = try fit("forward", "--checkpoint", fixture("v2-tiny.safetensors"),
                        "--inputs", fixture("v2-beyond-yarn-decouple.inputs.safetensors"), "--output", output,
                        "--interpolation", "yarn", "--decouple", "--ori-max-pe-len", "8", "--threads", "1", "--precision", "fp32")
        #expect(r.status == 0, "\(r.stderr)")
        let ours = try SafetensorsFile(path: output).tensor("out")
        let expected = try SafetensorsFile(path: fixture("v2-beyond-yarn-decouple.output.safetensors")).tensor("out")
        #expect(ours.shape == expected.shape)
        let diff = zip(ours.toArray(), expected.toArray()).map { abs($0 - $1) }.max()!
        let scale = expected.toArray().map(abs).max()!
        #expect(diff / scale <= 1e-4)
    }

    @Test func forwardAcceptsI32LabelsAndLearnedSigmaDoublesTheChannels() throws {
        let output = scratch("out.safetensors")
        let r = try fit("forward", "--checkpoint", fixture("v1-tiny.safetensors"),
                        "--inputs", fixture("v1-nonsquare.inputs.safetensors"), "--output", output)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try SafetensorsFile(path: output).tensor("out").shape == [2, 8, 12, 20])
    }

    @Test func inspectReportsConfigurationSizeAndBLAS() throws {
        let r = try fit("inspect", fixture("pixel-tiny.safetensors"))
        #expect(r.status == 0)
        #expect(r.stdout.contains("configuration: safetensors metadata 'fit_config'"))
        #expect(r.stdout.contains("3-channel pixel space"))
        #expect(r.stdout.contains("binding:       ok"))
        #expect(r.stdout.contains("BLAS:          core \(BLASRuntime.coreName)") || r.stdout.contains("BLAS:          core "))
    }

    /// `fit bench generate` refuses each option outside its range (exit 64, the option named)
    /// and reports JSON with the keys the PyTorch peers share.
    @Test func benchGenerateValidatesAndReportsJSON() throws {
        for (option, value) in [("--steps", "0"), ("--steps", "10001"), ("--tokens", "0"), ("--cfg", "-1"), ("--cfg", "nan")] {
            let r = try fit("bench", "generate", option, value)
            #expect(r.status == 64 && r.stderr.contains(option), "\(option) \(value): \(r.status) \(r.stderr)")
        }
        let r = try fit("bench", "generate", "--model", "embedded", "--tokens", "16", "--steps", "2", "--json", "--precision", "fp32")
        #expect(r.status == 0, "\(r.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
        #expect(object?["precision"] as? String == "fp32" && object?["steps"] as? Int == 2 && object?["s_per_step"] is Double)
    }

    @Test func missingCheckpoint() throws {
        expectBadInput(try fit("inspect", "/nonexistent/model.safetensors"), mentions: "no such file")
    }

    @Test func truncatedCheckpoint() throws {
        let path = scratch("cut.safetensors")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: fixture("v2-tiny.safetensors")))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
        expectBadInput(try fit("inspect", path), mentions: "truncated or corrupt")
    }

    @Test func gridNotAMultipleOfThePatch() throws {
        let inputs = scratch("odd.safetensors")
        try SafetensorsWriter.write([("x", .float32(Tensor(zeros: [1, 4, 7, 8]))),
                                     ("t", .float32(Tensor(shape: [1], values: [0.5]))),
                                     ("y", .int64(shape: [1], values: [1]))], to: inputs)
        expectBadInput(try fit("forward", "--checkpoint", fixture("v2-tiny.safetensors"), "--inputs", inputs,
                               "--output", scratch("o.safetensors")), mentions: "not a multiple of the patch size")
    }

    @Test func classOutOfRangeAndNothingWritten() throws {
        let inputs = scratch("label.safetensors"), output = scratch("o.safetensors")
        try SafetensorsWriter.write([("x", .float32(Tensor(zeros: [1, 4, 8, 8]))),
                                     ("t", .float32(Tensor(shape: [1], values: [0.5]))),
                                     ("y", .int64(shape: [1], values: [99]))], to: inputs)
        expectBadInput(try fit("forward", "--checkpoint", fixture("v2-tiny.safetensors"), "--inputs", inputs,
                               "--output", output), mentions: "class id 99 is out of range")
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test func gridBeyondTheRoPECache() throws {
        let inputs = scratch("big.safetensors")
        try SafetensorsWriter.write([("x", .float32(Tensor(zeros: [1, 4, 2, 520]))),
                                     ("t", .float32(Tensor(shape: [1], values: [0.5]))),
                                     ("y", .int64(shape: [1], values: [1]))], to: inputs)
        expectBadInput(try fit("forward", "--checkpoint", fixture("v2-tiny.safetensors"), "--inputs", inputs,
                               "--output", scratch("o.safetensors")), mentions: "exceeds the RoPE cache")
    }

    @Test func missingInputTensorIsNamed() throws {
        let inputs = scratch("partial.safetensors")
        try SafetensorsWriter.write([("x", .float32(Tensor(zeros: [1, 4, 8, 8])))], to: inputs)
        expectBadInput(try fit("forward", "--checkpoint", fixture("v2-tiny.safetensors"), "--inputs", inputs,
                               "--output", scratch("o.safetensors")), mentions: "has no tensor 't'")
    }

    @Test func unsupportedConfigurationValue() throws {
        let config = scratch("c.json")
        try Data(#"{"use_swiglu": true, "add_rel_pe_to_v": true}"#.utf8).write(to: URL(fileURLWithPath: config))
        expectBadInput(try fit("inspect", fixture("v2-tiny.safetensors"), "--config", config), mentions: "add_rel_pe_to_v")
    }
}
