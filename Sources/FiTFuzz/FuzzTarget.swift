import FiTKit
import Foundation

/// The parsers of untrusted files, as fuzz targets: each takes any bytes and must end in a
/// value or a ``FiTError`` — never a trap, a hang or an unbounded allocation. Any other error is
/// a finding too (it would reach the user as a raw Swift error).
enum FuzzTarget: String, CaseIterable {
    /// A `.safetensors` model file: the header, every tensor, the configuration it resolves to
    /// and its binding (without allocating the model), and a carried VAE.
    case safetensors
    /// A PNG with a generation record: libpng's decode, the `tEXt` chunks and the record.
    case pngRecord = "png-record"

    /// Runs the target on `data`.
    func run(_ data: Data) {
        do {
            switch self {
            case .safetensors: try Self.safetensors(data)
            case .pngRecord: try Self.pngRecord(data)
            }
        } catch is FiTError {
            // A clean refusal is the expected outcome for most inputs.
        } catch {
            fatalError("\(rawValue): an error that is not a FiTError: \(error)")
        }
    }

    private static func safetensors(_ data: Data) throws {
        let path = scratchPath(extension: "safetensors")
        defer { unlink(path) }
        guard FileManager.default.createFile(atPath: path, contents: data) else { return }
        let file = try SafetensorsFile(path: path)
        for name in file.names {
            switch file.entries[name]!.dtype {
            case .f32, .f16, .bf16: _ = try file.tensor(name)
            case .i64, .i32: _ = try file.integers(name)
            default: continue
            }
        }
        _ = try? ModelMetadata(file: file)
        let checkpoint = try ModelCheckpoint(path: path)
        try FiT.verifyBinding(configuration: checkpoint.configuration, shapes: file.entries.mapValues(\.shape))
        _ = checkpoint.configuration.parameterCount
        if let vae = checkpoint.carriedVAE { _ = vae.configuration.decodeMACs(height: 8, width: 8) }
    }

    private static func pngRecord(_ data: Data) throws {
        let (image, text) = try PNGFile.decode(data, path: "fuzz.png")
        _ = image.width * image.height
        let record = try GenerationRecord.from(pngText: text, path: "fuzz.png")
        _ = try record.json()
    }

    /// A file name of this process in memory-backed storage when there is some.
    private static func scratchPath(extension ext: String) -> String {
        let folder = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        return "\(folder)/fit-fuzz-\(getpid()).\(ext)"
    }
}
