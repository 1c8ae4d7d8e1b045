import Foundation
import Testing
import FiTKit
@testable import FiTFuzz

/// Every seed and every input the fuzzers ever found (`Fuzz/`) goes through its target on each
/// test run: a bug that comes back traps here even without libFuzzer.
@Suite struct FuzzCorpusTests {
    static let fuzz = CommandLineTests.root.appendingPathComponent("Fuzz")

    static func inputs(_ target: FuzzTarget) -> [String] {
        ["corpus", "regressions"].flatMap { kind -> [String] in
            let folder = fuzz.appendingPathComponent("\(kind)/\(target.rawValue)").path
            return ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted().map { "\(folder)/\($0)" }
        }
    }

    @Test(arguments: FuzzTarget.allCases)
    func everyKeptInputEndsInAValueOrAnError(_ target: FuzzTarget) throws {
        let files = Self.inputs(target)
        #expect(files.count >= 3, "the \(target.rawValue) corpus is missing")
        for file in files { target.run(try Data(contentsOf: URL(fileURLWithPath: file))) }
    }

    @Test func aForgedChunkLengthIsRefusedBeforeLibpngAllocatesIt() throws {
        let file = Self.fuzz.appendingPathComponent("regressions/png-record/oom-forged-text-length.png").path
        #expect(throws: (any Error).self) { _ = try PNGFile.decode(try Data(contentsOf: URL(fileURLWithPath: file))) }
        do { _ = try PNGFile.decode(try Data(contentsOf: URL(fileURLWithPath: file))) } catch { #expect("\(error)".contains("claims 2113929244 bytes, past the end of the file")) }
    }
}
