import Foundation
import Testing
@testable import FiTKit

/// The safetensors reader checks every byte range before use and explains what is wrong.
@Suite struct SafetensorsTests {
    /// Writes raw bytes to a scratch file and returns its path.
    func file(_ bytes: [UInt8]) -> String {
        let path = Fixtures.scratchDirectory().appendingPathComponent("t.safetensors").path
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    /// A file with the given JSON header and `dataBytes` bytes of data.
    func file(header: String, dataBytes: Int) -> String {
        var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian, Array.init)
        bytes += Array(header.utf8) + [UInt8](repeating: 0, count: dataBytes)
        return file(bytes)
    }

    func reason(_ path: String) -> String? {
        do { _ = try SafetensorsFile(path: path); return nil } catch { return "\(error)" }
    }

    @Test func roundTripsThroughTheWriter() throws {
        let path = Fixtures.scratchDirectory().appendingPathComponent("rt.safetensors").path
        let t = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, 6])
        try SafetensorsWriter.write([("a", .float32(t)), ("ids", .int64(shape: [2], values: [7, -1]))],
                                    metadata: ["k": "v"], to: path)
        let f = try SafetensorsFile(path: path)
        #expect(try f.tensor("a").toArray() == [1, 2, 3, 4, 5, 6])
        #expect(try f.tensor("a").shape == [2, 3])
        #expect(try f.integers("ids") == [7, -1])
        #expect(f.metadata == ["k": "v"])
    }

    @Test func missingFile() {
        #expect(reason("/nonexistent/model.safetensors")?.contains("no such file") == true)
    }

    @Test func emptyAndTruncatedFiles() {
        #expect(reason(file([]))?.contains("empty") == true)
        #expect(reason(file([1, 2, 3]))?.contains("shorter than the 8-byte header") == true)
    }

    @Test func headerLengthPastTheEnd() {
        var bytes = withUnsafeBytes(of: UInt64(1_000_000).littleEndian, Array.init)
        bytes += Array("{}".utf8)
        #expect(reason(file(bytes))?.contains("runs past the end") == true)
    }

    @Test func headerThatIsNotJSON() {
        #expect(reason(file(header: "{not json", dataBytes: 0))?.contains("not a JSON object") == true)
    }

    @Test func offsetsOutOfRange() {
        let header = #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#
        #expect(reason(file(header: header, dataBytes: 8))?.contains("has only 8 bytes") == true)
    }

    @Test func lengthThatDoesNotMatchTheShape() {
        let header = #"{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}"#
        #expect(reason(file(header: header, dataBytes: 16))?.contains("needs a different byte length") == true)
    }

    @Test func overlappingTensors() {
        let header = #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}"#
        #expect(reason(file(header: header, dataBytes: 16))?.contains("overlap") == true)
    }

    @Test func fractionalOrNonIntegerOffsetsAndShapes() {
        for header in [#"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16.5]}}"#,
                       #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0.0,16]}}"#,
                       #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,1.6e1]}}"#,
                       #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,"16"]}}"#,
                       #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,true]}}"#,
                       #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,18446744073709551615]}}"#] {
            #expect(reason(file(header: header, dataBytes: 16))?.contains("invalid data_offsets") == true, "\(header)")
        }
        for header in [#"{"w":{"dtype":"F32","shape":[4.0],"data_offsets":[0,16]}}"#,
                       #"{"w":{"dtype":"F32","shape":[2.5, 2],"data_offsets":[0,16]}}"#] {
            #expect(reason(file(header: header, dataBytes: 16))?.contains("invalid shape") == true, "\(header)")
        }
    }

    @Test func headerMustStartWithABrace() {
        let valid = #"{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#
        #expect(reason(file(header: valid, dataBytes: 16)) == nil)
        #expect(reason(file(header: "\u{FEFF}" + valid, dataBytes: 16))?.contains("byte-order mark") == true)
        #expect(reason(file(header: " " + valid, dataBytes: 16))?.contains("does not start with '{'") == true)
    }

    @Test func onlyRegularFilesAreOpened() throws {
        let folder = Fixtures.scratchDirectory().path
        #expect(reason(folder)?.contains("not a regular file") == true)
        #expect(reason("/dev/zero")?.contains("not a regular file") == true)
        let fifo = Fixtures.scratchDirectory().appendingPathComponent("pipe.safetensors").path
        #expect(mkfifo(fifo, 0o600) == 0)
        // Opening a FIFO for reading blocks until a writer comes; the reader must refuse it instead.
        #expect(reason(fifo)?.contains("not a regular file (a FIFO)") == true)
    }

    @Test func unknownDType() {
        let header = #"{"w":{"dtype":"Q4","shape":[4],"data_offsets":[0,2]}}"#
        #expect(reason(file(header: header, dataBytes: 2))?.contains("dtype Q4") == true)
    }

    @Test func unsupportedDTypeOnAccess() throws {
        let header = #"{"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#
        let f = try SafetensorsFile(path: file(header: header, dataBytes: 8))
        #expect(throws: FiTError.unsupportedDType(path: f.path, tensor: "w", dtype: "F64")) { try f.tensor("w") }
    }

    @Test func pickleIsRecognised() {
        let message = reason(file([0x50, 0x4B, 0x03, 0x04, 0, 0, 0, 0, 0, 0]))
        #expect(message?.contains("PyTorch pickle") == true)
        #expect(message?.contains("python/convert_checkpoint.py") == true)
    }

    @Test func halfPrecisionIsWidened() throws {
        // 1.5 in F16 is 0x3E00; -2 in BF16 is 0xC000.
        let header = #"{"h":{"dtype":"F16","shape":[1],"data_offsets":[0,2]},"b":{"dtype":"BF16","shape":[1],"data_offsets":[2,4]}}"#
        var bytes = withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian, Array.init) + Array(header.utf8)
        bytes += [0x00, 0x3E, 0x00, 0xC0]
        let f = try SafetensorsFile(path: file(bytes))
        #expect(try f.tensor("h").toArray() == [1.5])
        #expect(try f.tensor("b").toArray() == [-2])
    }

    @Test func writerLeavesNothingBehindWhenTheFolderIsMissing() {
        let dir = Fixtures.scratchDirectory().appendingPathComponent("absent")
        #expect(throws: FiTError.self) {
            try SafetensorsWriter.write([("a", .float32(Tensor(zeros: [1])))], to: dir.appendingPathComponent("x.safetensors").path)
        }
        #expect(!FileManager.default.fileExists(atPath: dir.path))
    }
}
