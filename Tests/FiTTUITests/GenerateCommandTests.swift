import Foundation
import Testing
import FiTKit

/// `fit generate` end to end on the pixel-space fixture model.
@Suite struct GenerateCommandTests {
    let cli = CommandLineTests()
    var model: String { cli.fixture("pixel-tiny.safetensors") }

    @Test func writesAPNGThatRegeneratesBitIdentically() throws {
        let a = cli.scratch("a.png"), b = URL(fileURLWithPath: a).deletingLastPathComponent().appendingPathComponent("b.png").path
        let first = try cli.fit("generate", "--model", model, "--class", "3", "--steps", "5", "--seed", "42", "--cfg", "2",
                                "--size", "32x24", "--out", a)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("wrote"))
        let (image, text) = try PNGFile.read(a)
        #expect(image.width == 32 && image.height == 24)
        let record = try GenerationRecord.from(pngText: text, path: a)
        #expect(record.seed == 42 && record.classID == 3 && record.steps == 5 && record.sampler == .euler && record.cfg == 2)
        let again = try cli.fit("generate", "--from", a, "--out", b, "--quiet")
        #expect(again.status == 0, "\(again.stderr)")
        #expect(again.stderr.isEmpty)
        #expect(try Data(contentsOf: URL(fileURLWithPath: a)) == Data(contentsOf: URL(fileURLWithPath: b)))
    }

    /// The precision is recorded and replayed; a CPU without native bf16 (FIT_NO_BF16=1 plays one)
    /// refuses bf16 with a message naming the fix, replays a bf16 image only with an explicit
    /// `--precision`, and `auto` falls back to fp32 there.
    @Test func precisionIsRecordedReplayedAndRefusedWhereTheCPULacksIt() throws {
        let a = cli.scratch("bf.png"), folder = URL(fileURLWithPath: a).deletingLastPathComponent()
        let noBF16 = ["FIT_NO_BF16": "1"]
        let refused = try cli.fit(["generate", "--model", model, "--class", "1", "--steps", "3", "--precision", "bf16",
                                   "--out", folder.appendingPathComponent("x.png").path], environment: noBF16)
        #expect(refused.status != 0 && refused.stderr.contains("native bfloat16") && refused.stderr.contains("--precision fp32"),
                "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("x.png").path))
        let auto = folder.appendingPathComponent("auto.png").path
        let fallback = try cli.fit(["generate", "--model", model, "--class", "1", "--steps", "3", "--seed", "9", "--out", auto, "--quiet"],
                                   environment: noBF16)
        #expect(fallback.status == 0, "\(fallback.stderr)")
        #expect(try GenerationRecord.from(pngText: PNGFile.read(auto).text, path: auto).precision == .fp32)
        guard OneDNN.hasNativeBFloat16 else { return }
        let made = try cli.fit("generate", "--model", model, "--class", "1", "--steps", "3", "--seed", "9", "--precision", "bf16",
                               "--out", a, "--quiet")
        #expect(made.status == 0, "\(made.stderr)")
        #expect(try GenerationRecord.from(pngText: PNGFile.read(a).text, path: a).precision == .bf16)
        let b = folder.appendingPathComponent("bf-again.png").path
        let again = try cli.fit("generate", "--from", a, "--out", b, "--quiet")
        #expect(again.status == 0 && (try? Data(contentsOf: URL(fileURLWithPath: a))) == (try? Data(contentsOf: URL(fileURLWithPath: b))),
                "\(again.stderr)")
        let elsewhere = try cli.fit(["generate", "--from", a, "--out", folder.appendingPathComponent("y.png").path], environment: noBF16)
        #expect(elsewhere.status != 0 && elsewhere.stderr.contains("made in bf16") && elsewhere.stderr.contains("--precision fp32"),
                "\(elsewhere.stderr)")
        let explicit = folder.appendingPathComponent("fp.png").path
        let remade = try cli.fit(["generate", "--from", a, "--out", explicit, "--precision", "fp32", "--quiet"], environment: noBF16)
        #expect(remade.status == 0, "\(remade.stderr)")
        #expect(try GenerationRecord.from(pngText: PNGFile.read(explicit).text, path: explicit).precision == .fp32)
    }

    @Test func scaleEnlargesThePicturesAndKeepsTheRecord() throws {
        let plain = cli.scratch("plain.png"), big = URL(fileURLWithPath: plain).deletingLastPathComponent().appendingPathComponent("big.png").path
        for (path, scale) in [(plain, "1"), (big, "4")] {
            let r = try cli.fit("generate", "--model", model, "--class", "2", "--steps", "3", "--seed", "5", "--size", "32x24",
                                "--scale", scale, "--out", path, "--quiet")
            #expect(r.status == 0, "\(r.stderr)")
        }
        let (small, smallText) = try PNGFile.read(plain), (large, largeText) = try PNGFile.read(big)
        #expect(large.width == 128 && large.height == 96)
        #expect(large == small.upscaled(by: 4))
        #expect(largeText[GenerationRecord.textKey] == smallText[GenerationRecord.textKey])
        let bad = try cli.fit("generate", "--model", model, "--class", "2", "--scale", "17")
        #expect(bad.status == 64 && bad.stderr.contains("--scale must be 1…16"))
    }

    @Test func ropeMethodsHaveOneNameAcceptedInBothForms() throws {
        for (name, decouple) in [("VisionNTK", false), ("visionntk", false), ("dynntk", true)] {
            let out = cli.scratch("rope.png")
            let r = try cli.fit(["generate", "--model", model, "--class", "1", "--steps", "2", "--seed", "1", "--size", "48x48",
                                 "--interpolation", name, "--out", out, "--quiet"] + (decouple ? ["--decouple"] : []), environment: [:])
            #expect(r.status == 0, "\(r.stderr)")
            let record = try GenerationRecord.from(pngText: try PNGFile.read(out).text, path: out)
            #expect(record.rope == RoPEScaling(interpolation: .dynntk, decouple: true), "\(name)")
            #expect(record.rope?.name == "VisionNTK")
        }
        let bad = try cli.fit("generate", "--model", model, "--class", "1", "--interpolation", "visionfoo")
        #expect(bad.status == 64 && bad.stderr.contains("VisionYaRN"))
    }

    @Test func viewShowsAnyPNGAndSaysWhatMadeFitsOwn() throws {
        let made = cli.scratch("made.png"), plain = URL(fileURLWithPath: made).deletingLastPathComponent().appendingPathComponent("plain.png").path
        #expect(try cli.fit("generate", "--model", model, "--class", "2", "--steps", "2", "--seed", "9", "--out", made, "--quiet").status == 0)
        try PNGFile.write(RGBImage(width: 6, height: 4, pixels: [UInt8](repeating: 90, count: 72)), to: plain)
        let r = try cli.fit("view", made, plain, "--columns", "16", "--color", "256")
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("▀") && r.stdout.contains("38;5;"))
        #expect(r.stdout.contains("pixel-tiny.safetensors · class 2 (2) · 32×32 · euler 2 steps") && r.stdout.contains("seed 9"))
        #expect(r.stdout.contains("remake: fit generate --from \(made)"))
        #expect(r.stdout.components(separatedBy: "remake:").count == 2) // the plain PNG gets no such line
        cli.expectBadInput(try cli.fit("view", "/nonexistent/x.png"), mentions: "no such file")
    }

    /// A binary copied elsewhere finds the embedded model in the resource bundle beside it, and
    /// without that bundle says so instead of stopping (Bundle.module would).
    @Test func aCopiedBinaryFindsItsBundleOrSaysItIsMissing() throws {
        let folder = URL(fileURLWithPath: cli.scratch("x")).deletingLastPathComponent().appendingPathComponent("installed")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let binary = folder.appendingPathComponent("fit").path
        try FileManager.default.copyItem(atPath: CommandLineTests.binary, toPath: binary)
        let run = { (args: [String]) throws -> CommandLineTests.Result in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = args
            let err = Pipe(), out = Pipe()
            process.standardError = err
            process.standardOutput = out
            try process.run()
            let e = err.fileHandleForReading.readDataToEndOfFile(), o = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return .init(status: process.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
        }
        cli.expectBadInput(try run(["inspect", "embedded"]), mentions: "make install")
        let bundle = URL(fileURLWithPath: CommandLineTests.binary).deletingLastPathComponent().appendingPathComponent("FiTExplorer_FiTTUI.resources").path
        try FileManager.default.copyItem(atPath: bundle, toPath: folder.appendingPathComponent("FiTExplorer_FiTTUI.resources").path)
        let r = try run(["inspect", "embedded"])
        #expect(r.status == 0 && r.stdout.contains("binding:       ok"), "\(r.stderr)")
    }

    @Test func anIndependentDecoderReadsTheSamePixelsAndMetadata() throws {
        let python = CommandLineTests.root.appendingPathComponent(".venv/bin/python").path
        try #require(FileManager.default.isExecutableFile(atPath: python), "run `make venv` first: Pillow checks our PNGs")
        let path = cli.scratch("p.png")
        #expect(try cli.fit("generate", "--model", model, "--class", "1", "--steps", "3", "--seed", "7", "--out", path).status == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", """
            import sys; from PIL import Image
            im = Image.open(sys.argv[1]); im.load()
            print(im.format, im.mode, im.size[0], im.size[1], sum(im.tobytes()), im.info["parameters"])
            """, path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let (image, text) = try PNGFile.read(path)
        let expected = "PNG RGB \(image.width) \(image.height) \(image.pixels.reduce(0) { $0 + Int($1) }) \(text["parameters"]!)\n"
        #expect(output == expected)
    }

    @Test func trajectoryFolderAndContactSheet() throws {
        let dir = URL(fileURLWithPath: cli.scratch("x")).deletingLastPathComponent()
        let r = try cli.fit("generate", "--model", model, "--class", "0", "--steps", "4", "--seed", "1",
                            "--out", dir.appendingPathComponent("final.png").path,
                            "--trajectory", dir.appendingPathComponent("steps").path,
                            "--sheet", dir.appendingPathComponent("sheet.png").path)
        #expect(r.status == 0, "\(r.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("steps").path).sorted()
        #expect(files == ["step-000-x0.png", "step-000-xt.png", "step-001-x0.png", "step-001-xt.png",
                          "step-002-x0.png", "step-002-xt.png", "step-003-x0.png", "step-003-xt.png"])
        let sheet = try PNGFile.read(dir.appendingPathComponent("sheet.png").path).image
        // x_t and x0 rows of 4 steps and the finished image, then a 5-px caption band (+ gap).
        #expect(sheet.width == 5 * 32 + 6 * 2 && sheet.height == 2 * 32 + 3 * 2 + 5 + 2)
        let final = try PNGFile.read(dir.appendingPathComponent("final.png").path).image
        for row in 0..<2 { // no empty cell: both rows end with the finished image
            var cell: [UInt8] = []
            for y in 0..<32 {
                let start: Int = ((2 + row * 34 + y) * sheet.width + 2 + 4 * 34) * 3
                cell += sheet.pixels[start..<(start + 32 * 3)]
            }
            #expect(cell == final.pixels, "row \(row)")
        }
        // Captions: black pixels in the band under every column.
        for column in 0..<5 {
            let band = (sheet.height - 7)..<sheet.height, xs = (2 + column * 34)..<(2 + column * 34 + 32)
            #expect(band.contains { y in xs.contains { x in sheet.pixels[(y * sheet.width + x) * 3] == 0 } }, "column \(column)")
        }
    }

    @Test func countWritesOneImagePerSeed() throws {
        let out = cli.scratch("batch.png")
        let r = try cli.fit("generate", "--model", model, "--class", "2", "--steps", "2", "--seed", "10", "--count", "2", "--out", out)
        #expect(r.status == 0, "\(r.stderr)")
        let folder = URL(fileURLWithPath: out).deletingLastPathComponent()
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("batch-10.png").path))
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("batch-11.png").path))
    }

    /// N images, their trajectories in a folder each, and one sheet of all N (one row per seed,
    /// its x0 estimates then its final image), written once.
    @Test func countWithASheetWritesEveryImageAndOneSheet() throws {
        let dir = URL(fileURLWithPath: cli.scratch("n")).deletingLastPathComponent()
        let out = dir.appendingPathComponent("many.png").path, sheet = dir.appendingPathComponent("many-sheet.png").path
        let r = try cli.fit("generate", "--model", model, "--class", "3", "--steps", "3", "--seed", "20", "--count", "4",
                            "--out", out, "--sheet", sheet, "--trajectory", dir.appendingPathComponent("many-steps").path)
        #expect(r.status == 0, "\(r.stderr)")
        var finals: [RGBImage] = []
        for seed in 20...23 {
            finals.append(try PNGFile.read(dir.appendingPathComponent("many-\(seed).png").path).image)
            let steps = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("many-steps/seed-\(seed)").path)
            #expect(steps.count == 6, "seed \(seed): \(steps)")
        }
        let image = try PNGFile.read(sheet).image
        #expect(image.width == 4 * 32 + 5 * 2 && image.height == 4 * 32 + 5 * 2 + 5 + 2)
        // the last cell of row r is seed 20+r's final image
        for (r, final) in finals.enumerated() {
            for y in 0..<32 {
                for x in 0..<32 {
                    let sx = 2 + 3 * 34 + x, sy = 2 + r * 34 + y
                    let a = Array(image.pixels[(sy * image.width + sx) * 3..<(sy * image.width + sx) * 3 + 3])
                    let b = Array(final.pixels[(y * 32 + x) * 3..<(y * 32 + x) * 3 + 3])
                    if a != b { Issue.record("row \(r) differs at \(x),\(y)"); return }
                }
            }
        }
        // Run again: every path exists, so nothing is written and the error names the first one.
        let again = try cli.fit("generate", "--model", model, "--class", "3", "--steps", "3", "--seed", "20", "--count", "4",
                                "--out", out, "--sheet", sheet)
        cli.expectBadInput(again, mentions: "many-20.png")
        let tooMany = try cli.fit("generate", "--model", model, "--class", "3", "--count", "10001", "--out", out)
        #expect(tooMany.status == 64 && tooMany.stderr.contains("--count must be 1…10000"), "\(tooMany.stderr)")
    }

    @Test func badInputIsAClearErrorAndWritesNothing() throws {
        let out = cli.scratch("never.png")
        cli.expectBadInput(try cli.fit("generate", "--model", model, "--class", "99", "--out", out), mentions: "class id 99 is out of range")
        cli.expectBadInput(try cli.fit("generate", "--model", model, "--class", "1", "--size", "30x32", "--out", out),
                           mentions: "nearest valid sizes: 28x32, 32x32")
        cli.expectBadInput(try cli.fit("generate", "--model", model, "--class", "1", "--sampler", "ddpm", "--out", out),
                           mentions: "use euler, heun, dopri5, sde")
        cli.expectBadInput(try cli.fit("generate", "--model", cli.fixture("v2-tiny.safetensors"), "--class", "1", "--out", out),
                           mentions: "needs the SD-VAE decoder")
        cli.expectBadInput(try cli.fit("generate", "--model", model, "--class", "1", "--out", "/nonexistent-folder/x.png"),
                           mentions: "does not exist")
        #expect(!FileManager.default.fileExists(atPath: out))
        // Usage errors come from the argument parser with its own exit code.
        #expect(try cli.fit("generate", "--model", model, "--class", "1", "--steps", "0").status != 0)
        #expect(try cli.fit("generate", "--model", model, "--class", "1", "--cfg", "-1").status != 0)
    }

    @Test func existingFilesAreKeptUnlessForced() throws {
        let out = cli.scratch("keep.png")
        try Data("precious".utf8).write(to: URL(fileURLWithPath: out))
        cli.expectBadInput(try cli.fit("generate", "--model", model, "--class", "1", "--steps", "2", "--out", out),
                           mentions: "the file exists")
        #expect(try Data(contentsOf: URL(fileURLWithPath: out)) == Data("precious".utf8))
        #expect(try cli.fit("generate", "--model", model, "--class", "1", "--steps", "2", "--out", out, "--force").status == 0)
    }

    @Test func aPNGWithoutOurMetadataCannotBeRegenerated() throws {
        let path = cli.scratch("plain.png")
        try PNGFile.write(RGBImage(width: 2, height: 2), to: path)
        cli.expectBadInput(try cli.fit("generate", "--from", path, "--model", model), mentions: "was not made by fit generate")
    }

    @Test func aFullDiskLeavesNoPartialFile() throws {
        // A 1 KiB file-size limit makes the PNG write fail as a full disk would.
        let out = cli.scratch("full.png")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -f 1; exec \"$0\" \"$@\"", CommandLineTests.binary,
                             "generate", "--model", model, "--class", "1", "--steps", "2", "--size", "64x64", "--out", out]
        let err = Pipe()
        process.standardError = err
        try process.run()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 2, "\(stderr)")
        #expect(stderr.contains("nothing was written"))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: URL(fileURLWithPath: out).deletingLastPathComponent().path)
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test func unknownClassNameListsTheNames() throws {
        // A copy of the pixel fixture with class names in its metadata.
        let source = try SafetensorsFile(path: model)
        let path = cli.scratch("named.safetensors")
        var metadata = source.metadata
        metadata["class_names"] = #"["smiley", "heart", "person"]"#
        try SafetensorsWriter.write(try source.names.map { ($0, .float32(try source.tensor($0))) }, metadata: metadata, to: path)
        cli.expectBadInput(try cli.fit("generate", "--model", path, "--class", "hart", "--out", cli.scratch("n.png")),
                           mentions: "classes: smiley, heart, person")
        #expect(try cli.fit("generate", "--model", path, "--class", "Heart", "--steps", "2", "--out", cli.scratch("h.png")).status == 0)
    }
}

/// `fit render` and the embedded model from the command line.
@Suite struct RenderCommandTests {
    let cli = CommandLineTests()

    @Test func rendersHalfBlocksWithANSIColours() throws {
        let r = try cli.fit("render", "--model", cli.fixture("pixel-tiny.safetensors"), "--class", "2", "--steps", "2",
                            "--seed", "4", "--color", "256", "--columns", "16")
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 8) // 32×32 px shrunk to 16 columns × 16 pixel rows = 8 rows of half blocks
        #expect(r.stdout.contains("\u{1B}[38;5;") && r.stdout.contains("▀"))
        let plain = try cli.fit("render", "--model", cli.fixture("pixel-tiny.safetensors"), "--class", "2", "--steps", "2",
                                "--seed", "4", "--color", "none", "--columns", "16")
        #expect(!plain.stdout.contains("\u{1B}") && plain.stdout.split(separator: "\n").count == 16)
        #expect(!r.stderr.contains("seed"))     // a seed given is not repeated
    }

    /// Without --seed, render says which seed it chose (on stderr), and that seed remakes the picture.
    @Test func renderSaysTheSeedItChose() throws {
        let args = ["render", "--model", cli.fixture("pixel-tiny.safetensors"), "--class", "1", "--steps", "2", "--color", "256"]
        let r = try cli.fit(args, environment: [:])
        #expect(r.status == 0, "\(r.stderr)")
        let seed = try #require(r.stderr.split(separator: " ").dropFirst().first.flatMap { UInt64($0) }, "\(r.stderr)")
        let again = try cli.fit(args + ["--seed", "\(seed)"], environment: [:])
        #expect(again.stdout == r.stdout)
    }

    @Test func theEmbeddedModelIsTheDefaultAndListsItsClasses() throws {
        let inspect = try cli.fit("inspect", "embedded")
        #expect(inspect.status == 0, "\(inspect.stderr)")
        #expect(inspect.stdout.contains("latent space of the VAE it carries (4×)") && inspect.stdout.contains("15 classes"), "\(inspect.stdout)")
        #expect(inspect.stdout.contains("VAE:           carried (vae.*)") && inspect.stdout.contains("beyond: VisionYaRN"))
        cli.expectBadInput(try cli.fit("generate", "--class", "dragon", "--out", cli.scratch("d.png")),
                           mentions: "classes: smiley, heart, person, hand, animal, plant, food, vehicle, building, sky-weather, clock, flag, symbol, object, activity")
    }
}
