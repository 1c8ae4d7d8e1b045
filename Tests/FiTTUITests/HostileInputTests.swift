import Foundation
import Testing
@testable import FiTKit

/// Inputs found by fuzzing the command line and the files it reads: each one is a one-line
/// error with a non-zero exit (2, or 64 for usage errors), never a trap, a hang, an unbounded
/// allocation, a silent wrong result or a half-written file.
@Suite struct HostileInputTests {
    let cli = CommandLineTests()
    var model: String { cli.fixture("pixel-tiny.safetensors") }

    /// A copy of the pixel fixture whose `fit_config` has `key` set to the JSON `value`.
    func checkpoint(with key: String, _ value: String) throws -> String {
        let source = try SafetensorsFile(path: model)
        var config = try JSONSerialization.jsonObject(with: Data(source.metadata["fit_config"]!.utf8)) as! [String: Any]
        config[key] = try JSONSerialization.jsonObject(with: Data(value.utf8), options: .fragmentsAllowed)
        var metadata = source.metadata
        metadata["fit_config"] = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
        let path = cli.scratch("hostile.safetensors")
        try SafetensorsWriter.write(try source.names.map { ($0, .float32(try source.tensor($0))) }, metadata: metadata, to: path)
        return path
    }

    func expectUsageError(_ r: CommandLineTests.Result, mentions fragment: String) {
        #expect(r.status == 64, "status \(r.status): \(r.stderr)")
        #expect(r.stderr.contains(fragment), "stderr: \(r.stderr)")
        #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Crash"), "\(r.stderr)")
    }

    @Test(arguments: [("num_heads", "0"), ("patch_size", "4611686018427387904"), ("depth", "-1"), ("depth", "100000000"),
                      ("rope_theta", "0"), ("rope_theta", "-5"), ("mlp_ratio", "1e300"), ("hidden_size", "9223372036854775807"),
                      ("in_channels", "1000000000000"), ("num_classes", "1000000000000"), ("class_dropout_prob", "2")])
    func inspectAndGenerateValidateTheConfiguration(_ key: String, _ value: String) throws {
        let path = try checkpoint(with: key, value)
        cli.expectBadInput(try cli.fit("inspect", path), mentions: key)
        cli.expectBadInput(try cli.fit("generate", "--model", path, "--class", "1", "--out", cli.scratch("x.png")), mentions: key)
    }

    @Test func poisonedWeightsAreAnErrorNotABlackImage() throws {
        let source = try SafetensorsFile(path: model)
        let path = cli.scratch("nan.safetensors"), out = cli.scratch("nan.png")
        try SafetensorsWriter.write(try source.names.map { name in
            let t = try source.tensor(name).copy()
            if name == "final_layer.linear.weight" { t.data[0] = .nan }
            return (name, .float32(t))
        }, metadata: source.metadata, to: path)
        cli.expectBadInput(try cli.fit("generate", "--model", path, "--class", "1", "--steps", "3", "--out", out),
                           mentions: "NaN or infinite values appeared at step 1 of 3 in x0")
        #expect(!FileManager.default.fileExists(atPath: out))
        cli.expectBadInput(try cli.fit("render", "--model", path, "--class", "1", "--steps", "3", "--seed", "1"), mentions: "NaN or infinite values")
    }

    @Test func absurdNumbersHaveDocumentedLimits() throws {
        let out = cli.scratch("limits.png")
        expectUsageError(try cli.fit("generate", "--model", model, "--class", "1", "--cfg", "1e308", "--out", out), mentions: "--cfg must be in 0…1000")
        expectUsageError(try cli.fit("generate", "--model", model, "--class", "1", "--steps", "\(Int.max)", "--out", out),
                         mentions: "--steps must be in 1…10000")
        expectUsageError(try cli.fit("generate", "--model", model, "--class", "1", "--threads", "9999999999", "--out", out),
                         mentions: "--threads must be in 1…256")
        expectUsageError(try cli.fit("render", "--model", model, "--class", "1", "--columns", "100000"), mentions: "--columns must be in 1…4096")
        expectUsageError(try cli.fit("render", "--model", model, "--class", "1", "--columns", "\(Int.max)"), mentions: "--columns must be in 1…4096")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    @Test func negativeNumbersAreReportedAsOutOfRange() throws {
        expectUsageError(try cli.fit("generate", "--model", model, "--class", "1", "--steps", "-5"), mentions: "--steps must be in 1…10000, got -5")
        expectUsageError(try cli.fit("generate", "--model", model, "--class", "1", "--cfg", "-1"), mentions: "--cfg must be in 0…1000, got -1")
        expectUsageError(try cli.fit("generate", "--model", model, "--class", "1", "--threads", "-2"), mentions: "--threads must be in 1…256, got -2")
        expectUsageError(try cli.fit("generate", "--model", model, "--class", "1", "--count", "-3"), mentions: "--count must be 1…10000, got -3")
    }

    @Test func aRecordOrAPNGHeaderCannotAskForUnboundedWork() throws {
        // A record claiming 10^12 steps.
        let made = cli.scratch("made.png")
        #expect(try cli.fit("generate", "--model", model, "--class", "1", "--steps", "2", "--seed", "1", "--out", made).status == 0)
        let (image, text) = try PNGFile.read(made)
        let json = text[GenerationRecord.textKey]!.replacingOccurrences(of: "\"steps\":2", with: "\"steps\":1000000000000")
        let hostile = cli.scratch("hostile-record.png")
        try PNGFile.write(image, text: [(GenerationRecord.textKey, json)], to: hostile)
        cli.expectBadInput(try cli.fit("generate", "--from", hostile, "--model", model, "--out", cli.scratch("y.png")),
                           mentions: "steps must be at most 10000")
        // A PNG whose header claims 10^6 × 10^6 pixels.
        var ihdr = [UInt8]()
        for v in [UInt32(1_000_000), UInt32(1_000_000)] { ihdr += withUnsafeBytes(of: v.bigEndian, Array.init) }
        ihdr += [8, 2, 0, 0, 0]
        let huge = PNGFile.signature + PNGFile.chunk(type: "IHDR", data: ihdr)
            + PNGFile.chunk(type: "IDAT", data: [0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]) + PNGFile.chunk(type: "IEND", data: [])
        let hugePath = cli.scratch("huge.png")
        try Data(huge).write(to: URL(fileURLWithPath: hugePath))
        cli.expectBadInput(try cli.fit("generate", "--from", hugePath, "--model", model), mentions: "megapixels")
    }

    @Test func onlyRegularFilesAreRead() throws {
        let folder = URL(fileURLWithPath: cli.scratch("x")).deletingLastPathComponent().path
        cli.expectBadInput(try cli.fit("generate", "--from", folder, "--model", model), mentions: "not a regular file (a folder)")
        cli.expectBadInput(try cli.fit("generate", "--from", "/dev/zero", "--model", model), mentions: "not a regular file (a device)")
        cli.expectBadInput(try cli.fit("inspect", model, "--config", "/dev/zero"), mentions: "not a regular file (a device)")
        let fifo = cli.scratch("model.fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        cli.expectBadInput(try cli.fit("inspect", fifo), mentions: "not a regular file (a FIFO)")
        cli.expectBadInput(try cli.fit("inspect", model, "--config", fifo), mentions: "not a regular file (a FIFO)")
    }

    @Test func renderRefusesAStepPastTheEnd() throws {
        cli.expectBadInput(try cli.fit("render", "--model", model, "--class", "1", "--steps", "2", "--step", "999", "--seed", "1"),
                           mentions: "--step 999 is beyond the last step of this run (2)")
        #expect(try cli.fit("render", "--model", model, "--class", "1", "--steps", "2", "--step", "2", "--seed", "1").status == 0)
    }

    @Test func existingOutputsAreNeverReplacedSilently() throws {
        // A trajectory folder that already holds steps.
        let folder = URL(fileURLWithPath: cli.scratch("x")).deletingLastPathComponent().appendingPathComponent("steps").path
        let args = ["generate", "--model", model, "--class", "1", "--steps", "2", "--seed", "4", "--trajectory", folder]
        #expect(try cli.fit(args + ["--out", cli.scratch("a.png")], environment: [:]).status == 0)
        let before = try Data(contentsOf: URL(fileURLWithPath: folder + "/step-000-x0.png"))
        cli.expectBadInput(try cli.fit(args + ["--out", cli.scratch("b.png"), "--seed", "9"], environment: [:]), mentions: "already holds 4 step images")
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/step-000-x0.png")) == before)
        #expect(try cli.fit(args + ["--out", cli.scratch("c.png"), "--force"], environment: [:]).status == 0)
        // A dangling symbolic link at --out.
        let link = cli.scratch("link.png")
        #expect(symlink("/nonexistent/target.png", link) == 0)
        cli.expectBadInput(try cli.fit("generate", "--model", model, "--class", "1", "--steps", "2", "--out", link), mentions: "symbolic link")
        var info = stat()
        #expect(lstat(link, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK)
        // A folder at --out.
        let outFolder = URL(fileURLWithPath: cli.scratch("x")).deletingLastPathComponent().path
        cli.expectBadInput(try cli.fit("generate", "--model", model, "--class", "1", "--steps", "2", "--out", outFolder), mentions: "it is a folder")
    }

    @Test func aClassOutOfRangeOffersOnlyValidIDs() throws {
        let classes = try ModelCheckpoint(path: model).configuration.numClasses
        let r = try cli.fit("generate", "--model", model, "--class", "\(classes)", "--out", cli.scratch("z.png"))
        cli.expectBadInput(r, mentions: "class id \(classes) is out of range: use 0…\(classes - 1).")
        #expect(!r.stderr.contains("unconditional"))
    }

    /// SIGINT or SIGTERM during a run that writes hundreds of PNGs leaves no temporary file, at
    /// whatever moment it lands; a SIGKILL's leftovers are removed by the next run.
    @Test func interruptedWritesLeaveNoTemporaryFiles() throws {
        let base = URL(fileURLWithPath: cli.scratch("x")).deletingLastPathComponent()
        var rng = SplitMix(seed: 11)
        for attempt in 0..<8 {
            let folder = base.appendingPathComponent("interrupted-\(attempt)").path
            let process = Process()
            process.executableURL = URL(fileURLWithPath: CommandLineTests.binary)
            process.arguments = ["generate", "--model", model, "--class", "1", "--steps", "300", "--threads", "1", "--quiet",
                                 "--trajectory", folder, "--out", base.appendingPathComponent("i-\(attempt).png").path]
            process.standardError = FileHandle.nullDevice
            try process.run()
            Thread.sleep(forTimeInterval: 0.15 + Double(rng.next() % 400) / 1000)
            if attempt % 2 == 0 { process.interrupt() } else { process.terminate() }
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal, "attempt \(attempt) ended by \(process.terminationReason)")
            let left = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".tmp") }
            #expect(left.isEmpty, "attempt \(attempt): \(left)")
        }
        // Leftovers of a dead process go; those of a live one stay.
        let dead = Process()
        dead.executableURL = URL(fileURLWithPath: "/bin/true")
        try dead.run()
        dead.waitUntilExit()
        let folder = base.appendingPathComponent("stale").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let stale = folder + "/.old.png.\(dead.processIdentifier).tmp", live = folder + "/.busy.png.\(getpid()).tmp"
        for path in [stale, live] { FileManager.default.createFile(atPath: path, contents: Data("partial".utf8)) }
        #expect(try cli.fit("generate", "--model", model, "--class", "1", "--steps", "2", "--out", folder + "/new.png").status == 0)
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(FileManager.default.fileExists(atPath: live))
    }
}
